import { ConfigValidationError, loadConfig, parseTrustProxy, shownValue } from './config.loader';
import { DEFAULT_JWT_SECRET } from './environment';

describe('loadConfig', () => {
  it('builds local defaults from an empty environment', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(3000);
    expect(c.http.publicBaseUrl).toBe('http://localhost:3000');
    expect(c.database.url).toBe('postgres://postgres@127.0.0.1:5432/pixmill');
    expect(c.redis.url).toBe('redis://127.0.0.1:6379/0');
    expect(c.readCache).toEqual({ enabled: true, ttlSeconds: 60 });
    expect(c.storage.driver).toBe('local');
    expect(c.jwt.accessTtlSeconds).toBe(3600);
    expect(c.jwt.refreshTtlSeconds).toBe(30 * 86400);
    expect(c.limits.maxUploadBytes).toBe(10485760);
    expect(c.plans.free).toEqual({ dailyTransforms: 20, storageBytes: 5368709120, maxRunningJobs: 0 });
    expect(c.http.trustProxy).toBe(false);
    expect(c.webhooks.retryScheduleSeconds).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
  });

  it('converts types from strings', () => {
    const c = loadConfig({ PORT: '8080', ALLOW_SVG: 'true', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1, Example.com' });
    expect(c.http.port).toBe(8080);
    expect(c.limits.allowSvg).toBe(true);
    expect(c.webhooks.allowedHosts).toEqual(['127.0.0.1', 'example.com']);
    expect(loadConfig({ READ_CACHE: 'false', READ_CACHE_TTL_SECONDS: '5' }).readCache).toEqual({ enabled: false, ttlSeconds: 5 });
  });

  it('lists every problem in one error', () => {
    let err: ConfigValidationError | undefined;
    try {
      loadConfig({ PORT: 'abc', STORAGE_DRIVER: 'ftp', JWT_ACCESS_TTL: 'soon', REDIS_URL: 'http://x' });
    } catch (e) {
      err = e as ConfigValidationError;
    }
    expect(err).toBeInstanceOf(ConfigValidationError);
    const fields = err!.problems.map((p) => p.split(':')[0]);
    expect(fields).toEqual(expect.arrayContaining(['PORT', 'STORAGE_DRIVER', 'JWT_ACCESS_TTL', 'REDIS_URL']));
  });

  it('shows each bad value as given, one line per setting, and never a secret', () => {
    let err: ConfigValidationError | undefined;
    try {
      loadConfig({
        PORT: 'abc',
        JWT_SECRET: 'short',
        CLOUDFRONT_PRIVATE_KEY: 'not-a-pem-key',
        PLAN_FREE_STORAGE_BYTES: '5GiB',
        DATABASE_URL: 'mysql://pix:hunter2@db/pixmill',
      });
    } catch (e) {
      err = e as ConfigValidationError;
    }
    const line = (name: string) => err!.problems.filter((p) => p.startsWith(`${name}:`));
    expect(line('PORT')).toHaveLength(1);
    expect(line('PORT')[0]).toMatch(/\(got "abc"\)$/);
    expect(line('PLAN_FREE_STORAGE_BYTES')[0]).toMatch(/\(got "5GiB"\)$/);
    expect(line('JWT_SECRET')[0]).toMatch(/got a value of 5 characters, not shown/);
    const all = err!.problems.join('\n');
    for (const secret of ['short"', 'not-a-pem-key', 'hunter2']) expect(all).not.toContain(secret);
    expect(shownValue('DATABASE_URL', 'postgres://pix:hunter2@db:5432/pixmill')).toBe('"postgres://pix:***@db:5432/pixmill"');
    expect(shownValue('REDIS_URL', 'redis://127.0.0.1:6379/0')).toBe('"redis://127.0.0.1:6379/0"');
  });

  it('requires S3_BUCKET with the s3 driver', () => {
    expect(() => loadConfig({ STORAGE_DRIVER: 's3' })).toThrow(/S3_BUCKET/);
    expect(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'pix' }).storage.s3.bucket).toBe('pix');
  });

  it('S3 server-side encryption: off by default; AES256 or aws:kms (optionally with a key); a key needs aws:kms', () => {
    const s3 = { STORAGE_DRIVER: 's3', S3_BUCKET: 'pix' };
    expect(loadConfig(s3).storage.s3.serverSideEncryption).toBeUndefined();
    expect(loadConfig({ ...s3, S3_SSE: 'AES256' }).storage.s3.serverSideEncryption).toEqual({ algorithm: 'AES256' });
    expect(loadConfig({ ...s3, S3_SSE: 'aws:kms' }).storage.s3.serverSideEncryption).toEqual({ algorithm: 'aws:kms' });
    expect(loadConfig({ ...s3, S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: 'alias/pixmill' }).storage.s3.serverSideEncryption).toEqual({
      algorithm: 'aws:kms',
      kmsKeyId: 'alias/pixmill',
    });
    expect(() => loadConfig({ ...s3, S3_SSE: 'kms' })).toThrow(/S3_SSE: /);
    expect(() => loadConfig({ ...s3, S3_SSE: 'AES256', S3_SSE_KMS_KEY_ID: 'alias/pixmill' })).toThrow(/S3_SSE_KMS_KEY_ID: a KMS key is only used with S3_SSE=aws:kms/);
    expect(() => loadConfig({ ...s3, S3_SSE_KMS_KEY_ID: 'alias/pixmill' })).toThrow(/S3_SSE_KMS_KEY_ID/);
  });

  it('running-job caps per plan: off (0) by default, never negative', () => {
    expect(loadConfig({}).plans.free.maxRunningJobs).toBe(0);
    expect(loadConfig({}).plans.pro.maxRunningJobs).toBe(0);
    expect(loadConfig({ PLAN_FREE_MAX_RUNNING_JOBS: '2' }).plans.free.maxRunningJobs).toBe(2);
    expect(() => loadConfig({ PLAN_PRO_MAX_RUNNING_JOBS: '-1' })).toThrow(/PLAN_PRO_MAX_RUNNING_JOBS/);
  });

  it('shutdown grace periods: 40 s for the API (a 30 s long-poll fits), 120 s for a worker (the slowest renders)', () => {
    expect(loadConfig({}).http.shutdownTimeoutMs).toBe(40_000);
    expect(loadConfig({}).worker.shutdownTimeoutMs).toBe(120_000);
    const c = loadConfig({ API_SHUTDOWN_TIMEOUT_MS: '5000', WORKER_SHUTDOWN_TIMEOUT_MS: '0' });
    expect([c.http.shutdownTimeoutMs, c.worker.shutdownTimeoutMs]).toEqual([5000, 0]);
    expect(() => loadConfig({ WORKER_SHUTDOWN_TIMEOUT_MS: '-1' })).toThrow(/WORKER_SHUTDOWN_TIMEOUT_MS/);
  });

  it('webhook deliveries: 20 at once per worker, whatever WORKER_CONCURRENCY; 5 in flight per user', () => {
    const c = loadConfig({ WORKER_CONCURRENCY: '1' });
    expect([c.worker.concurrency, c.webhooks.concurrency, c.webhooks.maxInFlightPerUser]).toEqual([1, 20, 5]);
    expect(loadConfig({ WEBHOOK_CONCURRENCY: '50', WEBHOOK_MAX_IN_FLIGHT_PER_USER: '2' }).webhooks).toMatchObject({ concurrency: 50, maxInFlightPerUser: 2 });
    expect(() => loadConfig({ WEBHOOK_CONCURRENCY: '0', WEBHOOK_MAX_IN_FLIGHT_PER_USER: '0' })).toThrow(/WEBHOOK_CONCURRENCY[\s\S]*WEBHOOK_MAX_IN_FLIGHT_PER_USER/);
  });

  it('refuses the default JWT secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) })).not.toThrow();
    expect(loadConfig({ NODE_ENV: 'development' }).jwt.secret).toBe(DEFAULT_JWT_SECRET);
  });
});

describe('TRUST_PROXY', () => {
  it('believes nobody by default, and proxies by address or all', () => {
    expect(parseTrustProxy('')).toBe(false);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('true')).toBe(true);
    expect(parseTrustProxy('loopback, 10.0.0.0/8')).toEqual(['loopback', '10.0.0.0/8']);
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1' }).http.trustProxy).toEqual(['127.0.0.1']);
  });
});
