import path from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { AppConfig } from './app-config';
import { DEFAULT_JWT_SECRET, Environment } from './environment';
import { parseDurationSeconds } from './duration.util';
import { redisClusterNodes } from './redis-url.util';

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

/** Settings whose value must never reach a log, even when it is wrong. */
const SECRET_SETTING = /SECRET|PRIVATE_KEY|PASSWORD|TOKEN|CREDENTIAL/;

/** What the operator set, as they wrote it: secrets hidden, a URL's password masked. */
export function shownValue(name: string, raw: string | undefined): string {
  if (raw === undefined) return 'nothing';
  if (SECRET_SETTING.test(name)) return `a value of ${raw.length} characters, not shown`;
  return JSON.stringify(raw.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@'));
}

/** One line per bad setting, naming every rule it breaks and the value as given. */
function flatten(errors: ValidationError[], given: Record<string, string | undefined>): string[] {
  return errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')} (got ${shownValue(e.property, given[e.property])})`);
}

/**
 * Validates the environment and builds the typed config. Every problem is
 * collected before failing so an operator fixes them in one pass.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const e = plainToInstance(Environment, defined, { exposeDefaultValues: true });
  const problems = flatten(validateSync(e, { skipMissingProperties: false }), defined);
  if (e.NODE_ENV === 'production' && e.JWT_SECRET === DEFAULT_JWT_SECRET) {
    problems.push('JWT_SECRET: the built-in development secret is refused when NODE_ENV=production');
  }
  if (e.NODE_ENV === 'production' && e.FAULT_CRASH_AFTER_OUTBOX_COMMIT) {
    problems.push('FAULT_CRASH_AFTER_OUTBOX_COMMIT: fault injection is refused when NODE_ENV=production');
  }
  if (String(e.REDIS_URL).startsWith('redis-cluster://')) {
    try {
      redisClusterNodes(e.REDIS_URL);
    } catch (err) {
      problems.push((err as Error).message);
    }
    // BullMQ's keys of one queue must share a slot: the prefix is a hash tag.
    if (!/^\{[^{}]+\}$/.test(e.QUEUE_PREFIX)) problems.push('QUEUE_PREFIX: on Redis Cluster it must be a hash tag such as {pixmill}');
  }
  if (e.S3_SSE_KMS_KEY_ID && e.S3_SSE !== 'aws:kms') {
    problems.push('S3_SSE_KMS_KEY_ID: a KMS key is only used with S3_SSE=aws:kms');
  }
  if (problems.length) throw new ConfigValidationError(problems);

  const plans = {
    free: { dailyTransforms: e.PLAN_FREE_DAILY_TRANSFORMS, storageBytes: e.PLAN_FREE_STORAGE_BYTES, maxRunningJobs: e.PLAN_FREE_MAX_RUNNING_JOBS },
    pro: { dailyTransforms: e.PLAN_PRO_DAILY_TRANSFORMS, storageBytes: e.PLAN_PRO_STORAGE_BYTES, maxRunningJobs: e.PLAN_PRO_MAX_RUNNING_JOBS },
    unlimited: { dailyTransforms: Number.MAX_SAFE_INTEGER, storageBytes: Number.MAX_SAFE_INTEGER, maxRunningJobs: 0 },
  };
  const config = new AppConfig();
  Object.assign(config, {
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    tracing: { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || null },
    http: {
      host: e.HOST,
      port: e.PORT,
      publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      shutdownTimeoutMs: e.API_SHUTDOWN_TIMEOUT_MS,
    },
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    redis: { url: e.REDIS_URL, queuePrefix: e.QUEUE_PREFIX },
    readCache: { enabled: e.READ_CACHE, ttlSeconds: e.READ_CACHE_TTL_SECONDS },
    jwt: {
      secret: e.JWT_SECRET,
      accessTtlSeconds: parseDurationSeconds(e.JWT_ACCESS_TTL),
      refreshTtlSeconds: parseDurationSeconds(e.JWT_REFRESH_TTL),
    },
    storage: {
      driver: e.STORAGE_DRIVER,
      localDir: e.STORAGE_LOCAL_DIR,
      s3: {
        bucket: e.S3_BUCKET,
        region: e.S3_REGION,
        endpoint: e.S3_ENDPOINT,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        accessKeyId: e.S3_ACCESS_KEY_ID,
        secretAccessKey: e.S3_SECRET_ACCESS_KEY,
        serverSideEncryption: e.S3_SSE
          ? { algorithm: e.S3_SSE as 'AES256' | 'aws:kms', ...(e.S3_SSE_KMS_KEY_ID ? { kmsKeyId: e.S3_SSE_KMS_KEY_ID } : {}) }
          : undefined,
      },
      cdnBaseUrl: e.CDN_BASE_URL?.replace(/\/+$/, ''),
      cloudfront:
        e.CLOUDFRONT_KEY_PAIR_ID && e.CLOUDFRONT_PRIVATE_KEY
          ? { keyPairId: e.CLOUDFRONT_KEY_PAIR_ID, privateKey: e.CLOUDFRONT_PRIVATE_KEY.replace(/\\n/g, '\n') }
          : undefined,
      deliveryUrlTtlSeconds: parseDurationSeconds(e.DELIVERY_URL_TTL),
    },
    limits: {
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      maxInputPixels: e.MAX_INPUT_PIXELS,
      maxAnimationFrames: e.MAX_ANIMATION_FRAMES,
      maxOutputPixels: e.MAX_OUTPUT_PIXELS,
      maxOutputFrames: e.MAX_OUTPUT_FRAMES,
      allowSvg: e.ALLOW_SVG,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
      authRateLimitPerMinute: e.AUTH_RATE_LIMIT_PER_MINUTE,
      publicRendersPerMinute: e.PUBLIC_RENDERS_PER_MINUTE,
      publicRenderWaitSeconds: e.PUBLIC_RENDER_WAIT_SECONDS,
      urlKeyMemoSeconds: e.URL_KEY_MEMO_SECONDS,
    },
    plans,
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      metricsPort: e.WORKER_METRICS_PORT,
      sharpConcurrency: e.SHARP_CONCURRENCY,
      sharpCacheMb: e.SHARP_CACHE_MB,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
      shutdownTimeoutMs: e.WORKER_SHUTDOWN_TIMEOUT_MS,
    },
    webhooks: {
      retryScheduleSeconds: e.WEBHOOK_RETRY_SCHEDULE.split(',').map((s) => parseDurationSeconds(s.trim())),
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      allowedHosts: e.WEBHOOK_ALLOWED_HOSTS.split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
      concurrency: e.WEBHOOK_CONCURRENCY,
      maxInFlightPerUser: e.WEBHOOK_MAX_IN_FLIGHT_PER_USER,
      crashAfterOutboxCommit: e.FAULT_CRASH_AFTER_OUTBOX_COMMIT,
    },
    accounts: {
      smtpUrl: e.SMTP_URL,
      mailFrom: e.MAIL_FROM,
      mailDir: e.MAIL_DIR ?? path.join(e.STORAGE_LOCAL_DIR, 'mail'),
      requireVerifiedEmail: e.REQUIRE_VERIFIED_EMAIL,
      verificationTtlSeconds: parseDurationSeconds(e.EMAIL_VERIFICATION_TTL),
      passwordResetTtlSeconds: parseDurationSeconds(e.PASSWORD_RESET_TTL),
      verificationResendPerHour: e.VERIFICATION_RESEND_PER_HOUR,
    },
  });
  return config;
}

/** TRUST_PROXY as Fastify takes it: false, true, or the proxies' addresses. */
export function parseTrustProxy(raw: string): boolean | string[] {
  const value = raw.trim().toLowerCase();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Boot helper: on invalid config, print every problem and exit non-zero. */
export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
