import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DirectUploadUnsupportedException } from './direct-upload-unsupported.exception';
import { InvalidObjectKeyError } from './invalid-object-key.error';
import { LocalStorageDriver } from './local-storage.driver';
import { derivativeKey, imagePrefix, originalKey } from './storage-keys.util';

describe('LocalStorageDriver', () => {
  let dir: string;
  let driver: LocalStorageDriver;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixmill-local-'));
    driver = new LocalStorageDriver({ dir });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('rejects keys that could escape its directory', async () => {
    for (const key of ['../outside', 'users/../../outside', 'users/..', '..', 'users\\..\\x', '/etc/passwd', 'users/\u0000x']) {
      await expect(driver.put(key, Buffer.from('x'), { contentType: 'text/plain' })).rejects.toBeInstanceOf(
        InvalidObjectKeyError,
      );
      await expect(driver.head(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(driver.delete(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
    }
    await expect(readdir(join(dir, '..'))).resolves.not.toContain('outside');
  });

  it('leaves no temp file behind when a source stream fails, and keeps the previous object', async () => {
    const key = originalKey('u', 'i');
    await driver.put(key, Buffer.from('old'), { contentType: 'image/png' });
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(driver.put(key, failing, { contentType: 'image/png' })).rejects.toThrow('client went away');
    expect((await driver.getBuffer(key)).toString()).toBe('old');
    const files = await readdir(join(dir, imagePrefix('u', 'i')));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('uses the content md5 as etag and hides its sidecars from list()', async () => {
    const key = derivativeKey('u', 'i', 'h', 'png');
    await driver.put(key, Buffer.from('hello'), { contentType: 'image/png' });
    await expect(driver.head(key)).resolves.toMatchObject({ etag: '5d41402abc4b2a76b9719d911017c592' });
    await expect(driver.list('users/')).resolves.toEqual([key]);
  });

  it('serves files put there by hand, with a fallback content type', async () => {
    await writeFile(join(dir, 'loose'), 'abc');
    await expect(driver.head('loose')).resolves.toMatchObject({ bytes: 3, contentType: 'application/octet-stream' });
  });

  it('removes directories emptied by deletes', async () => {
    await driver.put(originalKey('u', 'i'), Buffer.from('x'), { contentType: 'image/png' });
    await driver.put(derivativeKey('u', 'i', 'h', 'png'), Buffer.from('x'), { contentType: 'image/png' });
    await driver.deleteByPrefix(imagePrefix('u', 'i'));
    await expect(readdir(dir)).resolves.toEqual([]);
  });

  it('is ready while its directory exists; not once it is removed or is a file; a first start makes it', async () => {
    await expect(driver.checkReady()).resolves.toBeUndefined();
    await rm(dir, { recursive: true, force: true });
    await expect(driver.checkReady()).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(dir, 'not a directory');
    await expect(driver.checkReady()).rejects.toThrow(/is not a directory/);
    await rm(dir);

    const fresh = new LocalStorageDriver({ dir: join(dir, 'data') });
    await expect(fresh.checkReady()).resolves.toBeUndefined();
  });

  it('does not do direct uploads', async () => {
    await expect(
      driver.presignUpload('users/u/uploads/1', { contentType: 'image/png', maxBytes: 10, expiresInSeconds: 60 }),
    ).rejects.toBeInstanceOf(DirectUploadUnsupportedException);
    await expect(
      driver.presignUpload('users/u/uploads/1', { contentType: 'image/png', maxBytes: 10, expiresInSeconds: 60 }),
    ).rejects.toMatchObject({ status: 400, code: 'unsupported_operation' });
  });
});
