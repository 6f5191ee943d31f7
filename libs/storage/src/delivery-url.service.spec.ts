import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3rverHandle, startS3rver } from '../../testing/src/s3rver'; // not the barrel: it boots apps/api, which unit tests must not depend on
import { DeliveryUrlService, EXPIRY_WINDOW_SECONDS } from './delivery-url.service';
import { LocalStorageDriver } from './local-storage.driver';
import { LocalUrlSigner } from './local-url.signer';
import { S3StorageDriver } from './s3-storage.driver';
import { derivativeKey } from './storage-keys.util';

const key = derivativeKey('u1', 'i1', 'abc', 'webp');
/** A fixed clock at the start of a 5-minute window. */
const windowStartMs = Math.floor(Date.now() / 1000 / EXPIRY_WINDOW_SECONDS) * EXPIRY_WINDOW_SECONDS * 1000;
const clockAt = (offsetSeconds: number) => () => windowStartMs + offsetSeconds * 1000;

describe('DeliveryUrlService', () => {
  describe('with the local driver', () => {
    let dir: string;
    let driver: LocalStorageDriver;
    const secret = 'test-signing-secret';
    const service = (now = clockAt(10), ttl = 3600) =>
      new DeliveryUrlService(driver, { publicBaseUrl: 'http://localhost:3000/', signingSecret: secret, defaultTtlSeconds: ttl, now });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pixmill-delivery-'));
      driver = new LocalStorageDriver({ dir });
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('builds a signed /files URL that LocalUrlSigner verifies', async () => {
      const url = new URL(await service().urlFor(key));
      expect(url.origin + url.pathname).toBe(`http://localhost:3000/files/${key}`);
      const expires = url.searchParams.get('expires')!;
      const sig = url.searchParams.get('sig')!;
      expect(sig).toMatch(/^[0-9a-f]{64}$/);
      // Valid for at least the TTL, at most TTL + one window.
      const remaining = Number(expires) - clockAt(10)() / 1000;
      expect(remaining).toBeGreaterThanOrEqual(3600);
      expect(remaining).toBeLessThanOrEqual(3600 + EXPIRY_WINDOW_SECONDS);

      const signer = new LocalUrlSigner(secret, clockAt(20));
      expect(signer.verify(key, expires, sig)).toBe(true);
      expect(signer.verify(key, Number(expires), sig)).toBe(true);
      expect(signer.verify(key, expires, sig.replace(/^./, (c) => (c === '0' ? '1' : '0')))).toBe(false);
      expect(signer.verify(derivativeKey('u2', 'i1', 'abc', 'webp'), expires, sig)).toBe(false);
      expect(signer.verify(key, String(Number(expires) + 1), sig)).toBe(false);
      expect(signer.verify(key, expires, 'zz')).toBe(false);
      expect(signer.verify(key, undefined, undefined)).toBe(false);
      expect(new LocalUrlSigner('another-secret', clockAt(20)).verify(key, expires, sig)).toBe(false);
      // Expired: checked against the signer's clock.
      const later = new LocalUrlSigner(secret, () => Number(expires) * 1000 + 1);
      expect(later.verify(key, expires, sig)).toBe(false);
    });

    it('gives the same URL for the same key within a 5-minute window, a new one after', async () => {
      const first = await service(clockAt(1)).urlFor(key);
      expect(await service(clockAt(EXPIRY_WINDOW_SECONDS - 1)).urlFor(key)).toBe(first);
      expect(await service(clockAt(EXPIRY_WINDOW_SECONDS + 1)).urlFor(key)).not.toBe(first);
    });

    it('one service remembers a URL only within its window, and per TTL', async () => {
      let offset = 1;
      const svc = service(() => clockAt(offset)());
      const first = await svc.urlFor(key);
      offset = EXPIRY_WINDOW_SECONDS - 1;
      expect(await svc.urlFor(key)).toBe(first);
      expect(await svc.urlFor(key, { ttlSeconds: 60 })).not.toBe(first);
      offset = EXPIRY_WINDOW_SECONDS + 1;
      const next = await svc.urlFor(key);
      expect(next).not.toBe(first);
      expect(Number(new URL(next).searchParams.get('expires'))).toBe(windowStartMs / 1000 + 2 * EXPIRY_WINDOW_SECONDS + 3600);
    });

    it('honours a per-call TTL', async () => {
      const url = new URL(await service().urlFor(key, { ttlSeconds: 60 }));
      const remaining = Number(url.searchParams.get('expires')) - clockAt(10)() / 1000;
      expect(remaining).toBeGreaterThanOrEqual(60);
      expect(remaining).toBeLessThanOrEqual(60 + EXPIRY_WINDOW_SECONDS);
    });

    it('refuses to start without a signing secret', () => {
      expect(() => new DeliveryUrlService(driver, { publicBaseUrl: 'http://localhost:3000' })).toThrow(/signingSecret/);
    });
  });

  describe('with a CDN', () => {
    let dir: string;
    let driver: LocalStorageDriver;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pixmill-delivery-'));
      driver = new LocalStorageDriver({ dir });
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('without CloudFront keys returns the plain CDN URL', async () => {
      const service = new DeliveryUrlService(driver, { cdnBaseUrl: 'https://cdn.example.com/', publicBaseUrl: 'http://api' });
      await expect(service.urlFor(key)).resolves.toBe(`https://cdn.example.com/${key}`);
    });

    it('with CloudFront keys returns a canned-policy signed URL, stable within a window', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const make = (now: () => number) =>
        new DeliveryUrlService(driver, {
          cdnBaseUrl: 'https://d111111abcdef8.cloudfront.net',
          cloudfrontKeyPairId: 'K2JCJMDEHXQW5F',
          cloudfrontPrivateKey: privateKey,
          publicBaseUrl: 'http://api',
          defaultTtlSeconds: 600,
          now,
        });
      const signed = await make(clockAt(5)).urlFor(key);
      const url = new URL(signed);
      expect(url.origin + url.pathname).toBe(`https://d111111abcdef8.cloudfront.net/${key}`);
      expect(url.searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
      const expires = Number(url.searchParams.get('Expires'));
      expect(expires).toBe(windowStartMs / 1000 + EXPIRY_WINDOW_SECONDS + 600);

      // The signature is what CloudFront checks: RSA-SHA1 over the canned policy, CloudFront's base64 alphabet.
      const policy = JSON.stringify({
        Statement: [{ Resource: `https://d111111abcdef8.cloudfront.net/${key}`, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }],
      });
      const signature = Buffer.from(url.searchParams.get('Signature')!.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
      expect(verify('RSA-SHA1', Buffer.from(policy), publicKey, signature)).toBe(true);

      expect(await make(clockAt(200)).urlFor(key)).toBe(signed);
    });

    it('refuses half a CloudFront key pair', () => {
      expect(
        () => new DeliveryUrlService(driver, { cdnBaseUrl: 'https://cdn', cloudfrontKeyPairId: 'K', publicBaseUrl: 'http://api' }),
      ).toThrow(/CLOUDFRONT/);
    });
  });

  describe('with the S3 driver', () => {
    let s3: S3rverHandle;
    let driver: S3StorageDriver;

    beforeAll(async () => {
      s3 = await startS3rver();
      driver = new S3StorageDriver(s3.driverOptions);
    });
    afterAll(async () => {
      driver?.client.destroy();
      await s3?.stop();
    });

    it('returns a presigned GET that downloads the object', async () => {
      const body = Buffer.from('RIFF fake webp bytes');
      await driver.put(key, body, { contentType: 'image/webp', cacheControl: 'public, max-age=31536000, immutable' });
      const service = new DeliveryUrlService(driver, { publicBaseUrl: 'http://api', defaultTtlSeconds: 900 });
      const signed = await service.urlFor(key);
      const url = new URL(signed);
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      const now = Date.now() / 1000;
      const amzDate = url.searchParams.get('X-Amz-Date')!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z');
      const validUntil = Date.parse(amzDate) / 1000 + Number(url.searchParams.get('X-Amz-Expires'));
      expect(validUntil - now).toBeGreaterThanOrEqual(900);
      expect(validUntil - now).toBeLessThanOrEqual(900 + EXPIRY_WINDOW_SECONDS);

      const response = await fetch(signed);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/webp');
      expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
    });

    it('gives the same presigned URL within a 5-minute window', async () => {
      const at = (offset: number) => new DeliveryUrlService(driver, { publicBaseUrl: 'http://api', now: clockAt(offset) });
      const first = await at(3).urlFor(key);
      expect(await at(250).urlFor(key)).toBe(first);
      expect(await at(EXPIRY_WINDOW_SECONDS + 3).urlFor(key)).not.toBe(first);
    });
  });
});
