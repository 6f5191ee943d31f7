import { S3rverHandle, startS3rver } from '../../testing/src/s3rver'; // not the barrel: it boots apps/api, which unit tests must not depend on
import { Readable } from 'node:stream';
import { loadConfig } from '@pixmill/config';
import { s3Env } from '../../testing/src/s3rver';
import { S3StorageDriver } from './s3-storage.driver';
import { createStorageDriver } from './storage.module';
import { imagePrefix, uploadKey } from './storage-keys.util';

describe('S3StorageDriver against s3rver', () => {
  let s3: S3rverHandle;
  let driver: S3StorageDriver;
  const drivers: S3StorageDriver[] = [];
  const driverFor = (bucket: string) => {
    const d = new S3StorageDriver({ ...s3.driverOptions, bucket });
    drivers.push(d);
    return d;
  };

  beforeAll(async () => {
    s3 = await startS3rver();
    driver = driverFor(s3.bucket);
  });
  afterAll(async () => {
    drivers.forEach((d) => d.client.destroy());
    await s3?.stop();
  });

  it('ensureBucket creates a missing bucket and is idempotent', async () => {
    const other = driverFor('pixmill-other');
    await other.ensureBucket();
    await other.ensureBucket();
    await other.put('users/u/x', Buffer.from('x'), { contentType: 'text/plain' });
    await expect(other.exists('users/u/x')).resolves.toBe(true);
  });

  it('checkReady: HeadBucket answers for the bucket; a missing bucket is not ready, though an object HEAD there looks like a missing key', async () => {
    await expect(driver.checkReady()).resolves.toBeUndefined();
    const missing = driverFor('pixmill-no-such-bucket');
    await expect(missing.checkReady()).rejects.toThrow('bucket pixmill-no-such-bucket does not exist');
    await expect(missing.exists('health/ready')).resolves.toBe(false);
    const denied = new S3StorageDriver({ ...s3.driverOptions, accessKeyId: 'NOT-S3RVER' });
    drivers.push(denied);
    await expect(denied.checkReady()).rejects.toThrow('bucket pixmill-test: access denied');
  });

  it('deleteByPrefix pages through more than 1000 keys', async () => {
    const prefix = imagePrefix('bulk', 'img');
    const keys = Array.from({ length: 1100 }, (_, i) => `${prefix}derivatives/${String(i).padStart(4, '0')}.webp`);
    const body = Buffer.from('x');
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => driver.put(key, body, { contentType: 'image/webp' })));
    }
    await driver.put(imagePrefix('bulk', 'img2') + 'original', body, { contentType: 'image/png' });

    await expect(driver.list(prefix)).resolves.toHaveLength(1100);
    await expect(driver.deleteByPrefix(prefix)).resolves.toBe(1100);
    await expect(driver.list(prefix)).resolves.toEqual([]);
    await expect(driver.list('users/bulk/')).resolves.toEqual([imagePrefix('bulk', 'img2') + 'original']);
  });

  it('presignUpload returns a size- and type-limited POST policy that s3rver accepts', async () => {
    const key = uploadKey('u1', 'upload-1');
    const before = Date.now();
    const presigned = await driver.presignUpload(key, { contentType: 'image/png', maxBytes: 1000, expiresInSeconds: 600 });

    expect(presigned.method).toBe('POST');
    expect(presigned.url).toBe(`${s3.endpoint}/${s3.bucket}`);
    expect(presigned.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 600_000);
    expect(presigned.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(presigned.fields).toMatchObject({ key, 'Content-Type': 'image/png' });
    const policy = JSON.parse(Buffer.from(presigned.fields!.Policy, 'base64').toString('utf8'));
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', 1, 1000],
        ['eq', '$Content-Type', 'image/png'],
        { key },
        { bucket: s3.bucket },
      ]),
    );

    // s3rver does not enforce the policy, so this proves the form is well-formed, not the limits.
    const form = new FormData();
    for (const [name, value] of Object.entries(presigned.fields!)) form.append(name, value);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    form.append('file', new Blob([png], { type: 'image/png' }), 'a.png');
    const response = await fetch(presigned.url, { method: 'POST', body: form });
    expect(response.status).toBe(204);
    await expect(driver.head(key)).resolves.toMatchObject({ bytes: png.length, contentType: 'image/png' });
    expect((await driver.getBuffer(key)).equals(png)).toBe(true);
  });

  describe('server-side encryption (S3_SSE, S3_SSE_KMS_KEY_ID)', () => {
    // s3rver stores objects unencrypted and KMS cannot run here: these tests prove what Pixmill
    // asks S3 for (the headers on the wire, the POST policy) and that an S3 API accepts it.
    const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const sseDriver = (sse: Record<string, string>) => {
      const d = createStorageDriver(loadConfig({ ...s3Env(s3), ...sse })) as S3StorageDriver;
      drivers.push(d);
      return d;
    };
    /** The requests s3rver received while `work` ran. */
    const recorded = async (work: () => Promise<unknown>) => {
      const rec = s3.recordRequests();
      try {
        await work();
      } finally {
        rec.stop();
      }
      return rec.requests;
    };
    const sseHeaders = (r: { headers: Record<string, unknown> }) => ({
      sse: r.headers['x-amz-server-side-encryption'],
      kmsKeyId: r.headers['x-amz-server-side-encryption-aws-kms-key-id'],
    });

    it('AES256: a put sends x-amz-server-side-encryption: AES256, and s3rver stores the object', async () => {
      const d = sseDriver({ S3_SSE: 'AES256' });
      const key = imagePrefix('sse', 'aes') + 'original';
      const requests = await recorded(() => d.put(key, Buffer.from('encrypted at rest'), { contentType: 'text/plain' }));
      const puts = requests.filter((r) => r.method === 'PUT');
      expect(puts).toHaveLength(1);
      expect(sseHeaders(puts[0])).toEqual({ sse: 'AES256', kmsKeyId: undefined });
      expect((await d.getBuffer(key)).toString()).toBe('encrypted at rest');
    });

    it('aws:kms with a key: a streamed multipart put asks for the key where S3 takes it (CreateMultipartUpload)', async () => {
      const d = sseDriver({ S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: KMS_KEY });
      const key = imagePrefix('sse', 'kms') + 'original';
      const body = Buffer.alloc(6 * 1024 * 1024 + 1, 7); // over one 5 MiB part: a multipart upload
      const requests = await recorded(() => d.put(key, Readable.from([body.subarray(0, 1 << 20), body.subarray(1 << 20)]), { contentType: 'image/png' }));
      const create = requests.filter((r) => r.method === 'POST' && /[?&]uploads(=|&|$)/.test(r.url));
      expect(create).toHaveLength(1);
      expect(sseHeaders(create[0])).toEqual({ sse: 'aws:kms', kmsKeyId: KMS_KEY });
      expect(requests.filter((r) => r.method === 'PUT' && /partNumber=/.test(r.url)).length).toBe(2);
      await expect(d.head(key)).resolves.toMatchObject({ bytes: body.length });

      const small = imagePrefix('sse', 'kms') + 'derivatives/abc.webp';
      const smallPut = await recorded(() => d.put(small, Buffer.from('x'), { contentType: 'image/webp', cacheControl: 'public, max-age=31536000, immutable' }));
      expect(smallPut.filter((r) => r.method === 'PUT').map(sseHeaders)).toEqual([{ sse: 'aws:kms', kmsKeyId: KMS_KEY }]);
    });

    it('aws:kms: the presigned POST carries the fields and its policy requires them; s3rver accepts the form', async () => {
      const d = sseDriver({ S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: KMS_KEY });
      const key = uploadKey('sse', 'upload-kms');
      const presigned = await d.presignUpload(key, { contentType: 'image/png', maxBytes: 1000, expiresInSeconds: 600 });
      expect(presigned.fields).toMatchObject({
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': KMS_KEY,
      });
      const policy = JSON.parse(Buffer.from(presigned.fields!.Policy, 'base64').toString('utf8'));
      expect(policy.conditions).toEqual(
        expect.arrayContaining([
          { 'x-amz-server-side-encryption': 'aws:kms' },
          { 'x-amz-server-side-encryption-aws-kms-key-id': KMS_KEY },
          ['content-length-range', 1, 1000],
          { key },
        ]),
      );

      const form = new FormData();
      for (const [name, value] of Object.entries(presigned.fields!)) form.append(name, value);
      form.append('file', new Blob([Buffer.from('png-ish')], { type: 'image/png' }), 'a.png');
      const response = await fetch(presigned.url, { method: 'POST', body: form });
      expect(response.status).toBe(204);
      await expect(d.exists(key)).resolves.toBe(true);
    });

    it('off by default: no encryption header on puts, no encryption field in POST policies', async () => {
      const d = sseDriver({});
      const key = imagePrefix('sse', 'plain') + 'original';
      const requests = await recorded(() => d.put(key, Buffer.from('x'), { contentType: 'text/plain' }));
      expect(requests.filter((r) => r.method === 'PUT').map(sseHeaders)).toEqual([{ sse: undefined, kmsKeyId: undefined }]);
      const presigned = await d.presignUpload(uploadKey('sse', 'plain'), { contentType: 'image/png', maxBytes: 10, expiresInSeconds: 60 });
      expect(Object.keys(presigned.fields!).filter((f) => f.startsWith('x-amz-server-side'))).toEqual([]);
    });
  });
});
