import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DirectUploadUnsupportedException } from './direct-upload-unsupported.exception';
import { InvalidObjectKeyError } from './invalid-object-key.error';
import { ObjectNotFoundError } from './object-not-found.error';
import { LocalStorageDriver, SYNC_WRITE_MAX_BYTES } from './local-storage.driver';
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

  it('small buffers (synchronous calls) and large ones (streamed) write and read back the same, with md5 etags and no temp files', async () => {
    const small = Buffer.alloc(1000, 7);
    const large = Buffer.alloc(SYNC_WRITE_MAX_BYTES + 1, 9);
    const keyOf = (name: string) => `users/u1/images/i1/derivatives/${name}.bin`;
    await driver.put(keyOf('small'), small, { contentType: 'application/octet-stream', cacheControl: 'public, max-age=60' });
    await driver.put(keyOf('large'), large, { contentType: 'application/octet-stream' });
    expect((await driver.getBuffer(keyOf('small'))).equals(small)).toBe(true);
    expect((await driver.getBuffer(keyOf('large'))).equals(large)).toBe(true);
    expect(await driver.head(keyOf('small'))).toMatchObject({ bytes: 1000, etag: createHash('md5').update(small).digest('hex'), cacheControl: 'public, max-age=60' });
    expect(await driver.head(keyOf('large'))).toMatchObject({ bytes: large.length, etag: createHash('md5').update(large).digest('hex') });
    const names = await readdir(join(dir, 'users/u1/images/i1/derivatives'));
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await expect(driver.getBuffer(keyOf('missing'))).rejects.toThrow(ObjectNotFoundError);
  });

  it('a small write into a directory a deletion pruned meanwhile makes it again', async () => {
    const key = 'users/u1/images/i2/derivatives/a.bin';
    await driver.put(key, Buffer.from('one'), { contentType: 'text/plain' });
    await driver.delete(key); // prunes the emptied directories
    await driver.put(key, Buffer.from('two'), { contentType: 'text/plain' });
    expect((await driver.getBuffer(key)).toString()).toBe('two');
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
