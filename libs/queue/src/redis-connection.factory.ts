import IORedis, { Cluster, RedisOptions } from 'ioredis';
import { redisClusterNodes } from '@pixmill/config';

/**
 * A Redis client for REDIS_URL: a single server (`redis://`, `rediss://`) or a Redis Cluster
 * (`redis-cluster://host:port,…`, seed nodes; the rest of the cluster is discovered). A
 * Cluster client is typed as IORedis: it answers the same commands, scripts and pipelines
 * (BullMQ takes either), and every multi-key script keeps its keys in one hash tag.
 */
export function createRedisClient(url: string, opts: RedisOptions): IORedis {
  const cluster = redisClusterNodes(url);
  if (!cluster) return new IORedis(url, opts);
  // Auto-pipelining stays off on a cluster: ioredis batches commands by node and handles a
  // MOVED for the whole batch (redis/ioredis#2075), so during a failover or a resharding a
  // whole batch fails where single commands would each be redirected (decision 027).
  const { enableOfflineQueue, enableAutoPipelining: _singleServerOnly, retryStrategy, ...perNode } = opts;
  const client = new Cluster(cluster.nodes, {
    redisOptions: { ...perNode, password: cluster.password ?? perNode.password },
    enableOfflineQueue,
    enableAutoPipelining: false,
    clusterRetryStrategy: retryStrategy ? (times) => retryStrategy(times) : undefined,
    // After a failover, ask again where the slots went instead of failing the command.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
  });
  return client as unknown as IORedis;
}

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
  const client = createRedisClient(url, opts);
  // Connection errors are reported by health checks and by the calls that fail; keep them off stderr.
  client.on('error', () => undefined);
  return client;
}
