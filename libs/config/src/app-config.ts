import { parseDurationSeconds } from './duration.util';

export type PlanName = 'free' | 'pro' | 'unlimited';

export interface PlanLimits {
  dailyTransforms: number;
  storageBytes: number;
  /** Jobs of one user rendering at once; 0 = no cap (the default). */
  maxRunningJobs: number;
}

/** The typed configuration every module receives by injection. */
export class AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  /** OpenTelemetry: where traces go, or null when tracing is off. */
  tracing: { otlpEndpoint: string | null };
  http: {
    host: string;
    port: number;
    publicBaseUrl: string;
    trustProxy: boolean | string[];
    /** The API's grace period after SIGTERM (API_SHUTDOWN_TIMEOUT_MS). */
    shutdownTimeoutMs: number;
  };
  database: { url: string; poolSize: number };
  redis: { url: string; queuePrefix: string };
  readCache: { enabled: boolean; ttlSeconds: number };
  jwt: { secret: string; accessTtlSeconds: number; refreshTtlSeconds: number };
  storage: {
    driver: 'local' | 's3';
    localDir: string;
    s3: {
      bucket?: string;
      region: string;
      endpoint?: string;
      forcePathStyle: boolean;
      accessKeyId?: string;
      secretAccessKey?: string;
      /** S3_SSE / S3_SSE_KMS_KEY_ID; undefined = no encryption header (the bucket default applies). */
      serverSideEncryption?: { algorithm: 'AES256' | 'aws:kms'; kmsKeyId?: string };
    };
    cdnBaseUrl?: string;
    cloudfront?: { keyPairId: string; privateKey: string };
    deliveryUrlTtlSeconds: number;
  };
  limits: {
    maxUploadBytes: number;
    maxInputPixels: number;
    maxAnimationFrames: number;
    maxOutputPixels: number;
    maxOutputFrames: number;
    allowSvg: boolean;
    rateLimitPerMinute: number;
    authRateLimitPerMinute: number;
    publicRendersPerMinute: number;
    /** PUBLIC_RENDER_WAIT_SECONDS: a public request's wait for a new render. */
    publicRenderWaitSeconds: number;
    /** URL_KEY_MEMO_SECONDS: how long decrypted URL keys stay in an API process (0: not at all). */
    urlKeyMemoSeconds: number;
  };
  plans: Record<PlanName, PlanLimits>;
  worker: {
    concurrency: number;
    metricsPort: number;
    sharpConcurrency: number;
    sharpCacheMb: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    reconcileIntervalMs: number;
    /** A worker's grace period after SIGTERM (WORKER_SHUTDOWN_TIMEOUT_MS). */
    shutdownTimeoutMs: number;
  };
  webhooks: {
    retryScheduleSeconds: number[];
    timeoutMs: number;
    allowedHosts: string[];
    /** Deliveries one worker process sends at once (WEBHOOK_CONCURRENCY). */
    concurrency: number;
    /** One user's deliveries in flight at once, fleet-wide (WEBHOOK_MAX_IN_FLIGHT_PER_USER). */
    maxInFlightPerUser: number;
    /** Test-only fault injection (FAULT_CRASH_AFTER_OUTBOX_COMMIT). */
    crashAfterOutboxCommit: boolean;
  };
  accounts: {
    /** SMTP connection URL; undefined = write .eml files to `mailDir`. */
    smtpUrl?: string;
    mailFrom: string;
    mailDir: string;
    requireVerifiedEmail: boolean;
    verificationTtlSeconds: number;
    passwordResetTtlSeconds: number;
    verificationResendPerHour: number;
  };

  static durationSeconds(value: string): number {
    return parseDurationSeconds(value);
  }
}
