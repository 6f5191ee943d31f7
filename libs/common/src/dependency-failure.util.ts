/** Seconds a client is told to wait (Retry-After) when a dependency is down. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** Which dependency an error shows to be unreachable; `dependency` when the error does not say which. */
export type FailedDependency = 'postgres' | 'redis' | 'storage' | 'dependency';

/** Socket-level failures: the peer refused, reset, timed out or cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'ECONNABORTED', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/**
 * PostgreSQL SQLSTATEs of a server that is going away or cannot take the session: class 08
 * (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
 * (starting up or shutting down), 53300 too_many_connections.
 */
function isPgConnectionState(code: string): boolean {
  return /^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** node-postgres's own messages for a connection that died, never came, or timed out. */
const PG_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^Query read timeout/,
  /^Cannot use a pool after calling end on the pool/,
];

/** ioredis's messages for a connection that is gone or a cluster that cannot serve the slot. */
const REDIS_MESSAGES = [
  /^Connection is closed/,
  /^Stream isn't writeable/,
  /^Reached the max retries per request limit/,
  /^Failed to refresh slots cache/,
  /^None of startup nodes is available/,
  /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN)\b/,
];

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(e: unknown): string {
  const m = (e as { message?: unknown })?.message;
  return typeof m === 'string' ? m : '';
}

/** The error and what it wraps: TypeORM's driverError, `cause`, an AggregateError's errors. */
function* chain(err: unknown, depth = 0): Generator<unknown> {
  if (err == null || depth > 4) return;
  yield err;
  const e = err as { driverError?: unknown; cause?: unknown; errors?: unknown; lastNodeError?: unknown };
  if (e.driverError) yield* chain(e.driverError, depth + 1);
  if (e.cause) yield* chain(e.cause, depth + 1);
  if (e.lastNodeError) yield* chain(e.lastNodeError, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
}

function classifyOne(e: unknown): FailedDependency | undefined {
  const code = codeOf(e);
  const message = messageOf(e);
  const name = (e as { name?: unknown })?.name;
  if (code && isPgConnectionState(code)) return 'postgres';
  if (PG_MESSAGES.some((re) => re.test(message))) return 'postgres';
  if (name === 'MaxRetriesPerRequestError' || name === 'ClusterAllFailedError') return 'redis';
  if (REDIS_MESSAGES.some((re) => re.test(message))) return 'redis';
  // The AWS SDK: a 5xx or throttling answer from the object store, or its own timeouts.
  const meta = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata;
  if (meta && ((meta.httpStatusCode ?? 0) >= 500 || name === 'SlowDown' || name === 'TimeoutError')) return 'storage';
  if (code && NETWORK_CODES.has(code)) return 'dependency';
  return undefined;
}

/**
 * The dependency an error shows to be down (PostgreSQL refused, terminated or timed out a
 * connection; Redis closed or a cluster cannot serve; the object store failed or cannot be
 * reached), or undefined when the error is something else. The API answers such errors 503
 * `unavailable` with Retry-After instead of 500, in one place (the problem filter).
 */
export function failedDependency(err: unknown): FailedDependency | undefined {
  let fallback: FailedDependency | undefined;
  for (const e of chain(err)) {
    const d = classifyOne(e);
    if (d && d !== 'dependency') return d;
    fallback ??= d;
  }
  return fallback;
}
