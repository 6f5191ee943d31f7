import { S3rverHandle, startS3rver } from '../../testing/src/s3rver'; // not the barrel: it boots apps/api, which unit tests must not depend on
import { S3StorageDriver } from './s3-storage.driver';
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
});
