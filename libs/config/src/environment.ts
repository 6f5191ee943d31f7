import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

export const DEFAULT_JWT_SECRET = 'pixmill-local-development-secret-change-me';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : value === true || value === 'true' || value === '1';
const DURATION = /^\d+(ms|s|m|h|d)?$/;

/**
 * Every setting Pixmill reads, named as in SPEC §7, with its default. This is the
 * only place that knows environment variable names; the rest of the code gets a
 * typed AppConfig built from it.
 */
export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: string = 'development';

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT: number = 3000;

  /**
   * How long the API may take to finish the requests in hand after SIGTERM before it ends
   * itself. The longest legitimate request is a long-poll (`?wait=` up to 30 s), plus time
   * to answer it and close connections.
   */
  @Transform(toInt) @IsInt() @Min(0)
  API_SHUTDOWN_TIMEOUT_MS: number = 40_000;

  @IsString()
  HOST: string = '0.0.0.0';

  /**
   * Whose X-Forwarded-For to believe for the client address (per-IP auth rate limits):
   * empty = nobody (the socket's peer is the client); a comma-separated list of proxy
   * addresses or CIDRs (or `loopback`, `uniquelocal`); or `true` = any peer.
   */
  @Matches(/^(|true|false|[0-9a-z.:/,\s]+)$/i)
  TRUST_PROXY: string = '';

  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true })
  PUBLIC_BASE_URL?: string;

  @IsUrl({ require_tld: false, protocols: ['postgres', 'postgresql'], require_protocol: true })
  DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/pixmill';

  @Transform(toInt) @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE: number = 10;

  /** `redis://…`, `rediss://…`, or a Redis Cluster: `redis-cluster://host:port,host:port,…` (seed nodes). */
  @ValidateIf((e: Environment) => !String(e.REDIS_URL).startsWith('redis-cluster://'))
  @IsUrl({ require_tld: false, protocols: ['redis', 'rediss'], require_protocol: true })
  REDIS_URL: string = 'redis://127.0.0.1:6379/0';

  /**
   * Serve job and image reads by id from Redis (read-through; every write invalidates).
   * Off, a process neither reads nor fills the cache but still invalidates on writes, so
   * processes with it on and off can share one Redis.
   */
  @Transform(toBool) @IsBoolean()
  READ_CACHE: boolean = true;

  /** How long a cached row may live: the bound on staleness if an invalidation is ever lost. */
  @Transform(toInt) @IsInt() @Min(1) @Max(86400)
  READ_CACHE_TTL_SECONDS: number = 60;

  /** A Redis hash tag so every queue key lands in one Redis Cluster slot. */
  @Matches(/^\{[a-z0-9_-]+\}$/)
  QUEUE_PREFIX: string = '{pixmill}';

  @IsString() @MinLength(32)
  JWT_SECRET: string = DEFAULT_JWT_SECRET;

  @Matches(DURATION)
  JWT_ACCESS_TTL: string = '1h';

  @Matches(DURATION)
  JWT_REFRESH_TTL: string = '30d';

  @IsIn(['local', 's3'])
  STORAGE_DRIVER: string = 'local';

  @IsString()
  STORAGE_LOCAL_DIR: string = './data';

  @ValidateIf((e: Environment) => e.STORAGE_DRIVER === 's3') @IsString() @MinLength(3)
  S3_BUCKET?: string;

  @IsString()
  S3_REGION: string = 'us-east-1';

  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true })
  S3_ENDPOINT?: string;

  @Transform(toBool) @IsBoolean()
  S3_FORCE_PATH_STYLE: boolean = false;

  /** Optional static credentials; without them the AWS default chain is used (env, profile, instance role). */
  @IsOptional() @IsString()
  S3_ACCESS_KEY_ID?: string;

  @ValidateIf((e: Environment) => !!e.S3_ACCESS_KEY_ID) @IsString()
  S3_SECRET_ACCESS_KEY?: string;

  /**
   * Server-side encryption requested on every object write (puts, multipart uploads, presigned
   * POST policies): `AES256` (S3-managed keys) or `aws:kms`. Unset: the bucket's default applies.
   */
  @IsOptional() @IsIn(['AES256', 'aws:kms'])
  S3_SSE?: string;

  /** With `S3_SSE=aws:kms`: the KMS key (id, ARN or alias ARN). Unset: the account's AWS-managed `aws/s3` key. */
  @IsOptional() @IsString() @Matches(/^\S+$/)
  S3_SSE_KMS_KEY_ID?: string;

  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true })
  CDN_BASE_URL?: string;

  @IsOptional() @IsString()
  CLOUDFRONT_KEY_PAIR_ID?: string;

  @ValidateIf((e: Environment) => !!e.CLOUDFRONT_KEY_PAIR_ID) @IsString() @Matches(/BEGIN (RSA )?PRIVATE KEY/)
  CLOUDFRONT_PRIVATE_KEY?: string;

  @Matches(DURATION)
  DELIVERY_URL_TTL: string = '1h';

  @Transform(toInt) @IsInt() @Min(1)
  MAX_UPLOAD_BYTES: number = 10 * 1024 * 1024;

  @Transform(toInt) @IsInt() @Min(1)
  MAX_INPUT_PIXELS: number = 50_000_000;

  @Transform(toInt) @IsInt() @Min(1)
  MAX_ANIMATION_FRAMES: number = 100;

  @Transform(toInt) @IsInt() @Min(1)
  MAX_OUTPUT_PIXELS: number = 50_000_000;

  /** Most frames of an animated output (MAX_OUTPUT_PIXELS counts over all of them too). */
  @Transform(toInt) @IsInt() @Min(1)
  MAX_OUTPUT_FRAMES: number = 100;

  @Transform(toBool) @IsBoolean()
  ALLOW_SVG: boolean = false;

  @Transform(toInt) @IsInt() @Min(1) @Max(64)
  WORKER_CONCURRENCY: number = 2;

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  WORKER_METRICS_PORT: number = 9464;

  /**
   * How long a worker's lock on an active job lasts (renewed every half of it). A worker
   * that dies (SIGKILL, lost machine) stops renewing: after this its job counts as stalled
   * and another worker takes it. Must outlast any pause of a busy worker's event loop.
   */
  @Transform(toInt) @IsInt() @Min(1000)
  WORKER_LOCK_DURATION_MS: number = 60_000;

  /** How often each worker looks for stalled jobs (active, lock expired) to take back. */
  @Transform(toInt) @IsInt() @Min(100)
  WORKER_STALLED_INTERVAL_MS: number = 15_000;

  /**
   * How long a worker may take to finish the jobs in hand after SIGTERM. The slowest render
   * measured, a 48 MP AVIF with `compress` at effort 4, took 64 s alone on 2 vCPU, and two
   * such renders in hand finished 78 s after SIGTERM (BENCHMARKS.md, docs/decisions/013):
   * 120 s covers that with room. Past it, the worker hands its jobs back to the queue and
   * ends itself; the orchestrator's grace (stop_grace_period, terminationGracePeriodSeconds)
   * must be longer.
   */
  @Transform(toInt) @IsInt() @Min(0)
  WORKER_SHUTDOWN_TIMEOUT_MS: number = 120_000;

  /** How often the elected worker compares the jobs table with the queues and re-enqueues what Redis lost. */
  @Transform(toInt) @IsInt() @Min(100)
  RECONCILE_INTERVAL_MS: number = 5_000;

  /** libvips threads per image; throughput comes from jobs in parallel instead. */
  @Transform(toInt) @IsInt() @Min(0) @Max(64)
  SHARP_CONCURRENCY: number = 1;

  @Transform(toInt) @IsInt() @Min(0)
  SHARP_CACHE_MB: number = 50;

  @Transform(toInt) @IsInt() @Min(1)
  RATE_LIMIT_PER_MINUTE: number = 100;

  @Transform(toInt) @IsInt() @Min(1)
  AUTH_RATE_LIMIT_PER_MINUTE: number = 10;

  /** New renders per minute that an owner's public /i/ URLs may start (cache hits are not counted). */
  @Transform(toInt) @IsInt() @Min(1)
  PUBLIC_RENDERS_PER_MINUTE: number = 120;

  /** How long a public /i/ request waits for a new render before answering 503 `rendering` (SPEC §8: at most 10 s). */
  @Transform(toInt) @IsInt() @Min(1) @Max(10)
  PUBLIC_RENDER_WAIT_SECONDS: number = 10;

  /**
   * How long an API process keeps an account's decrypted URL signing keys in memory
   * (docs/decisions/050): a rotation made through another API process signs there within
   * this many seconds. 0 turns the memo off.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(300)
  URL_KEY_MEMO_SECONDS: number = 5;

  @Transform(toInt) @IsInt() @Min(0)
  PLAN_FREE_DAILY_TRANSFORMS: number = 20;

  @Transform(toInt) @IsInt() @Min(0)
  PLAN_FREE_STORAGE_BYTES: number = 5 * 1024 ** 3;

  @Transform(toInt) @IsInt() @Min(0)
  PLAN_PRO_DAILY_TRANSFORMS: number = 5000;

  @Transform(toInt) @IsInt() @Min(0)
  PLAN_PRO_STORAGE_BYTES: number = 100 * 1024 ** 3;

  /**
   * An optional cap on one user's jobs rendering at once, by plan; 0 (the default) is no cap.
   * Fair scheduling needs none (docs/decisions/008): a cap only ever leaves slots idle.
   */
  @Transform(toInt) @IsInt() @Min(0)
  PLAN_FREE_MAX_RUNNING_JOBS: number = 0;

  @Transform(toInt) @IsInt() @Min(0)
  PLAN_PRO_MAX_RUNNING_JOBS: number = 0;

  @Matches(/^\s*\d+(ms|s|m|h|d)?(\s*,\s*\d+(ms|s|m|h|d)?)*\s*$/)
  WEBHOOK_RETRY_SCHEDULE: string = '0,5s,5m,30m,2h,5h,10h,14h,20h,24h';

  @Transform(toInt) @IsInt() @Min(100)
  WEBHOOK_TIMEOUT_MS: number = 10_000;

  /**
   * Webhook deliveries each worker process sends at once. Independent of
   * WORKER_CONCURRENCY: a delivery mostly waits on the network (up to WEBHOOK_TIMEOUT_MS
   * for a receiver that hangs), so many run side by side on little CPU.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  WEBHOOK_CONCURRENCY: number = 20;

  /**
   * One user's webhook deliveries in flight at once, across all workers. A delivery over the
   * cap waits a moment in the queue instead of taking a slot, so one user's dead receiver
   * cannot hold every slot (docs/decisions/014).
   */
  @Transform(toInt) @IsInt() @Min(1)
  WEBHOOK_MAX_IN_FLIGHT_PER_USER: number = 5;

  @IsString()
  WEBHOOK_ALLOWED_HOSTS: string = '';

  /**
   * Fault injection for the outbox test: the process kills itself right after a webhook
   * outbox transaction commits, before the delivery is enqueued. Refused in production.
   */
  @Transform(toBool) @IsBoolean()
  FAULT_CRASH_AFTER_OUTBOX_COMMIT: boolean = false;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  /**
   * OpenTelemetry traces, sent as OTLP/HTTP (JSON) to this base URL (`/v1/traces` is appended).
   * Unset (the default): tracing is off and its SDK is not even loaded (docs/decisions/062).
   * Read once more, unvalidated, by the tracing bootstrap, which must start before any module loads.
   */
  @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  // --- Accounts: email, verification, password reset ---

  /** SMTP server for account mail (`smtp://user:pass@host:587`, `smtps://…`). Unset: each message is written as an .eml file under MAIL_DIR. */
  @IsOptional() @IsUrl({ require_tld: false, protocols: ['smtp', 'smtps'], require_protocol: true })
  SMTP_URL?: string;

  @IsString() @MinLength(3)
  MAIL_FROM: string = 'Pixmill <no-reply@pixmill.local>';

  /** Where messages go without SMTP_URL; default `mail/` under STORAGE_LOCAL_DIR (./data/mail). */
  @IsOptional() @IsString()
  MAIL_DIR?: string;

  /** Unverified accounts get 403 email_not_verified on uploads, transformations and webhooks. */
  @Transform(toBool) @IsBoolean()
  REQUIRE_VERIFIED_EMAIL: boolean = false;

  @Matches(DURATION)
  EMAIL_VERIFICATION_TTL: string = '24h';

  @Matches(DURATION)
  PASSWORD_RESET_TTL: string = '1h';

  /** Verification mails one account may ask to be sent again per hour. */
  @Transform(toInt) @IsInt() @Min(1)
  VERIFICATION_RESEND_PER_HOUR: number = 3;
}
