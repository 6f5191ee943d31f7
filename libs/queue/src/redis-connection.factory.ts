import IORedis, { RedisOptions } from 'ioredis';

/**
 * Redis connections for BullMQ. Workers need `maxRetriesPerRequest: null`
 * (blocking commands); producers fail fast instead so the API can answer 503.
 */
export function createRedisConnection(url: string, role: 'producer' | 'worker' | 'client', name: string): IORedis {
  const opts: RedisOptions = {
    connectionName: `pixmill:${name}`,
    lazyConnect: false,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    // The general client serves a rate-limit script on every API request: commands issued in
    // one event-loop turn go out in one write instead of one syscall each (the poll profile
    // spent most of its Redis time in those writes). BullMQ's own connections keep theirs.
    enableAutoPipelining: role === 'client',
  };
  const client = new IORedis(url, opts);
  // Connection errors are reported by health checks and by the calls that fail; keep them off stderr.
  client.on('error', () => undefined);
  return client;
}
