import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileTooLargeException } from '@pixmill/common';
import { S3rverHandle, startS3rver } from '../../testing/src/s3rver'; // not the barrel: it boots apps/api, which unit tests must not depend on
import { LocalStorageDriver } from './local-storage.driver';
import { ObjectNotFoundError } from './object-not-found.error';
import { S3StorageDriver } from './s3-storage.driver';
import { StorageDriver } from './storage.driver';
import { derivativeKey, IMMUTABLE_CACHE_CONTROL, imagePrefix, originalKey, uploadKey } from './storage-keys.util';

const MiB = 1024 * 1024;

/** A stream of `total` bytes in 64 KiB chunks that records how much was actually pulled from it. */
function byteStream(total: number): { stream: Readable; produced: () => number } {
  let produced = 0;
  const chunk = Buffer.alloc(64 * 1024, 0xab);
  async function* generate() {
    while (produced < total) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - produced));
      produced += piece.length;
      yield piece;
    }
  }
  return { stream: Readable.from(generate(), { objectMode: false }), produced: () => produced };
}

interface DriverCase {
  name: string;
  start(): Promise<{ driver: StorageDriver; stop(): Promise<void> }>;
  /** Over-limit stream: for S3 large enough that at least one 5 MiB multipart part is uploaded before the abort. */
  tooLarge: { total: number; maxBytes: number };
}

const cases: DriverCase[] = [
  {
    name: 'LocalStorageDriver',
    async start() {
      const dir = await mkdtemp(join(tmpdir(), 'pixmill-local-'));
      return { driver: new LocalStorageDriver({ dir }), stop: () => rm(dir, { recursive: true, force: true }) };
    },
    tooLarge: { total: 3 * MiB, maxBytes: 1 * MiB },
  },
  {
    name: 'S3StorageDriver (s3rver)',
    async start() {
      const s3: S3rverHandle = await startS3rver();
      const driver = new S3StorageDriver(s3.driverOptions);
      return {
        driver,
        async stop() {
          driver.client.destroy();
          await s3.stop();
        },
      };
    },
    tooLarge: { total: 12 * MiB, maxBytes: 6 * MiB },
  },
];

describe.each(cases)('$name', ({ start, tooLarge }) => {
  let driver: StorageDriver;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ driver, stop } = await start());
  });
  afterAll(() => stop?.());

  it('round-trips a Buffer and keeps content type and cache control', async () => {
    const key = derivativeKey('u1', 'img1', 'abc123', 'webp');
    const body = Buffer.from('RIFF....WEBPVP8 pretend image');
    await expect(
      driver.put(key, body, { contentType: 'image/webp', cacheControl: IMMUTABLE_CACHE_CONTROL }),
    ).resolves.toEqual({ bytes: body.length });

    expect((await driver.getBuffer(key)).equals(body)).toBe(true);
    const head = await driver.head(key);
    expect(head).toMatchObject({ bytes: body.length, contentType: 'image/webp', cacheControl: IMMUTABLE_CACHE_CONTROL });
    expect(head!.etag).toMatch(/^[0-9a-f-]+$/);
    expect(head!.lastModified.getTime()).toBeGreaterThan(Date.now() - 60_000);
    await expect(driver.exists(key)).resolves.toBe(true);
  });

  it('round-trips a multi-chunk stream and reads it back as a stream', async () => {
    const key = originalKey('u1', 'img-stream');
    const { stream } = byteStream(2 * MiB + 123);
    await expect(driver.put(key, stream, { contentType: 'image/png', maxBytes: 3 * MiB })).resolves.toEqual({
      bytes: 2 * MiB + 123,
    });
    const head = await driver.head(key);
    expect(head).toMatchObject({ bytes: 2 * MiB + 123, contentType: 'image/png' });
    expect(head!.cacheControl).toBeUndefined();

    const chunks: Buffer[] = [];
    for await (const chunk of await driver.getStream(key)) chunks.push(chunk as Buffer);
    const read = Buffer.concat(chunks);
    expect(read.length).toBe(2 * MiB + 123);
    expect(read.every((b) => b === 0xab)).toBe(true);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const key = originalKey('u1', 'img-exact');
    await expect(driver.put(key, byteStream(1000).stream, { contentType: 'image/png', maxBytes: 1000 })).resolves.toEqual(
      { bytes: 1000 },
    );
    await expect(driver.put(key, Buffer.alloc(1000), { contentType: 'image/png', maxBytes: 1000 })).resolves.toEqual({
      bytes: 1000,
    });
  });

  it('aborts a stream as soon as it crosses maxBytes and leaves no object', async () => {
    const key = originalKey('u1', 'img-too-large');
    const { stream, produced } = byteStream(tooLarge.total);
    const put = driver.put(key, stream, { contentType: 'image/jpeg', maxBytes: tooLarge.maxBytes });
    await expect(put).rejects.toBeInstanceOf(FileTooLargeException);
    await expect(put).rejects.toMatchObject({ status: 413, code: 'file_too_large' });
    // Enforced while streaming: the rest of the body was never pulled.
    expect(produced()).toBeLessThan(tooLarge.total);
    expect(stream.destroyed).toBe(true);
    await expect(driver.exists(key)).resolves.toBe(false);
    await expect(driver.list(imagePrefix('u1', 'img-too-large'))).resolves.toEqual([]);
  });

  it('refuses an over-limit Buffer without writing anything', async () => {
    const key = originalKey('u1', 'img-buffer-too-large');
    await expect(driver.put(key, Buffer.alloc(11), { contentType: 'image/png', maxBytes: 10 })).rejects.toBeInstanceOf(
      FileTooLargeException,
    );
    await expect(driver.exists(key)).resolves.toBe(false);
  });

  it('overwrites an existing object', async () => {
    const key = uploadKey('u1', 'overwrite');
    await driver.put(key, Buffer.from('first'), { contentType: 'text/plain' });
    await driver.put(key, Buffer.from('second!'), { contentType: 'image/gif' });
    expect((await driver.getBuffer(key)).toString()).toBe('second!');
    await expect(driver.head(key)).resolves.toMatchObject({ bytes: 7, contentType: 'image/gif' });
  });

  it('reads byte ranges for sniffing', async () => {
    const key = originalKey('u1', 'img-range');
    await driver.put(key, Buffer.from('hello world'), { contentType: 'text/plain' });
    expect((await driver.getRange(key, 0, 4)).toString()).toBe('hello');
    expect((await driver.getRange(key, 6, 100)).toString()).toBe('world');
    expect((await driver.getRange(key, 100, 200)).length).toBe(0);
    await expect(driver.getRange(key, 5, 2)).rejects.toBeInstanceOf(RangeError);
    await expect(driver.getRange(originalKey('u1', 'nope'), 0, 15)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('reports a missing object clearly', async () => {
    const key = originalKey('u1', 'missing');
    await expect(driver.getStream(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(driver.getStream(key)).rejects.toMatchObject({ key, code: 'object_not_found' });
    await expect(driver.getBuffer(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(driver.head(key)).resolves.toBeNull();
    await expect(driver.exists(key)).resolves.toBe(false);
  });

  it('deletes idempotently', async () => {
    const key = originalKey('u1', 'img-delete');
    await driver.put(key, Buffer.from('x'), { contentType: 'image/png' });
    await driver.delete(key);
    await expect(driver.exists(key)).resolves.toBe(false);
    await expect(driver.delete(key)).resolves.toBeUndefined();
  });

  it('deletes by prefix, and only that prefix', async () => {
    const doomed = [
      originalKey('u2', 'i1'),
      derivativeKey('u2', 'i1', 'h1', 'webp'),
      derivativeKey('u2', 'i1', 'h2', 'avif'),
    ];
    const kept = [originalKey('u2', 'i10'), derivativeKey('u2', 'i10', 'h1', 'webp'), uploadKey('u2', 'i1')];
    for (const key of [...doomed, ...kept]) await driver.put(key, Buffer.from(key), { contentType: 'image/png' });

    await expect(driver.list(imagePrefix('u2', 'i1'))).resolves.toEqual([...doomed].sort());
    await expect(driver.deleteByPrefix(imagePrefix('u2', 'i1'))).resolves.toBe(3);
    await expect(driver.list('users/u2/')).resolves.toEqual([...kept].sort());
    await expect(driver.deleteByPrefix(imagePrefix('u2', 'i1'))).resolves.toBe(0);
  });

  it('refuses unsafe keys and an empty prefix', async () => {
    for (const key of ['../etc/passwd', 'users/../../x', 'users\\x', '/abs', 'a\u0000b', 'users//x', 'users/.hidden', '']) {
      await expect(driver.put(key, Buffer.from('x'), { contentType: 'text/plain' })).rejects.toThrow(/Invalid storage key/);
      await expect(driver.getStream(key)).rejects.toThrow(/Invalid storage key/);
    }
    await expect(driver.deleteByPrefix('')).rejects.toThrow(/Invalid storage key/);
    await expect(driver.deleteByPrefix('../')).rejects.toThrow(/Invalid storage key/);
  });
});
