import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type IORedis from 'ioredis';
import { createRedisClient } from '@pixmill/queue';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { AppConfig } from '@pixmill/config';

/** The rows the cache holds, each by its id. */
export type CachedRowKind = 'job' | 'image' | 'derivative' | 'derivative-of-spec' | 'url-keys' | 'preset' | 'public-settings';

/** One row read through the cache: what `readThrough` takes, as a value, so reads can be batched (`readAll`). */
export interface CachedRead<T extends object> {
  kind: CachedRowKind;
  id: string;
  // Method signatures (not function properties), so a read of any row type fits a list of reads.
  /** Reads the row from PostgreSQL on a miss. */
  load(): Promise<T | null>;
  /** Restores what JSON does not keep (dates). */
  revive(row: T): T;
  /** Only rows it accepts are stored. */
  storeIf?(row: T): boolean;
}

/** The rows of a tuple of reads, in order. */
export type CachedRows<R extends readonly CachedRead<object>[]> = { [K in keyof R]: R[K] extends CachedRead<infer T> ? T | null : never };

/**
 * A cache call that takes longer than this counts as a miss (reads go to PostgreSQL) or
 * as a lost invalidation (the TTL bounds it). Redis answers in well under a millisecond;
 * the margin is for a busy event loop.
 */
const CACHE_TIMEOUT_MS = 250;
/**
 * How long a version key outlives the last write of its row. A reader that noted "no
 * version" and then stalled longer than this could store a stale row; no read stalls an hour.
 */
const VERSION_TTL_SECONDS = 3600;

/** Stores the row only if the version the reader noted before reading PostgreSQL is still current. */
const STORE_IF_VERSION = `
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

/** A write happened: a reader that started before it can no longer store, and the cached row goes. */
const BUMP_AND_DELETE = `
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1`;

type CacheRedis = IORedis & {
  pixmillCacheStore(rowKey: string, versionKey: string, version: string, value: string, ttlSeconds: number): Promise<number>;
  pixmillCacheBump(rowKey: string, versionKey: string, versionTtlSeconds: number): Promise<number>;
};

/**
 * Read-through cache of rows by id in Redis: the job and image reads behind
 * `GET /v1/jobs/{id}` and `GET /v1/images/{id}` (docs/decisions/010-read-cache.md).
 * It holds entities, never rendered DTOs, so signed delivery URLs are made per request.
 *
 * Correct under concurrent writes: every row has a version key next to it. A reader
 * notes the version before it reads PostgreSQL and stores the row only if the version
 * is unchanged (one Lua compare-and-set); a writer, after its write has committed,
 * bumps the version and deletes the row (one Lua call). So a reader that read the row
 * before a write cannot store it after that write's invalidation. Each row also has a
 * TTL (READ_CACHE_TTL_SECONDS), which bounds staleness if an invalidation is ever lost
 * (Redis down at the moment of the write). Absence is never cached, so inserting a new
 * row needs no invalidation.
 *
 * Invalidation lives in the repositories' write methods, after their statement:
 * - a write on the repository's own connection invalidates at once;
 * - a write through a caller's transaction (`em` from `ds.transaction`) is invalidated
 *   when that transaction ends: `afterWrite(kind, ids, em)` records it against the
 *   transaction's QueryRunner, and this class, a TypeORM subscriber, runs it after the
 *   outermost COMMIT (or ROLLBACK, where it is merely a spare miss). The transaction
 *   owner has nothing to call. Code that writes rows with its own SQL calls `invalidate`
 *   after its commit.
 *
 * Redis trouble never fails a read or a write: a cache call that errors or takes longer
 * than CACHE_TIMEOUT_MS is a miss, and the row comes from PostgreSQL.
 *
 * READ_CACHE=false turns reads and fills off in this process; it still invalidates, so
 * processes with the cache on and off can share a Redis.
 */
@Injectable()
export class ReadCache implements EntitySubscriberInterface, OnApplicationShutdown {
  private readonly logger = new Logger('ReadCache');
  private readonly redis: CacheRedis;
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  readonly enabled: boolean;
  /** Invalidations waiting for the end of the transaction they were written in. */
  private readonly pending = new WeakMap<QueryRunner, Map<string, [CachedRowKind, string]>>();
  private failing = false;

  constructor(config: AppConfig, ds: DataSource) {
    this.enabled = config.readCache.enabled;
    this.ttlSeconds = config.readCache.ttlSeconds;
    // Each row's key pair shares a hash tag, so the scripts also run on Redis Cluster.
    this.prefix = `${config.redis.queuePrefix.replace(/[{}]/g, '')}:rc:`;
    this.redis = createRedisClient(config.redis.url, {
      connectionName: 'pixmill:read-cache',
      // Fail at once while disconnected, instead of queueing reads that PostgreSQL can answer.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: CACHE_TIMEOUT_MS,
      // Reads of concurrent requests share one write to the socket.
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    }) as CacheRedis;
    this.redis.on('error', () => undefined); // reported once per outage by note() below
    this.redis.defineCommand('pixmillCacheStore', { numberOfKeys: 2, lua: STORE_IF_VERSION });
    this.redis.defineCommand('pixmillCacheBump', { numberOfKeys: 2, lua: BUMP_AND_DELETE });
    ds.subscribers.push(this);
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }

  /**
   * The row from the cache, or from `load` (PostgreSQL), stored for next time unless a
   * write happened meanwhile. `revive` restores what JSON does not keep (dates). With
   * `storeIf`, only rows it accepts are stored (jobs: final ones, which never change again).
   */
  async readThrough<T extends object>(
    kind: CachedRowKind,
    id: string,
    load: () => Promise<T | null>,
    revive: (row: T) => T,
    storeIf?: (row: T) => boolean,
  ): Promise<T | null> {
    const [row] = await this.readAll([{ kind, id, load, revive, storeIf }] as const);
    return row;
  }

  /**
   * Several rows in one round trip: one MGET of every row and version key (on Redis
   * Cluster, where each row has its own slot, one MGET per row, sent together). Each miss
   * then reads PostgreSQL and is stored as `readThrough` does; misses run concurrently.
   */
  async readAll<R extends readonly CachedRead<object>[]>(reads: R): Promise<CachedRows<R>> {
    if (!this.enabled) return (await Promise.all(reads.map((r) => r.load()))) as CachedRows<R>;
    const keys = reads.map((r) => this.keys(r.kind, r.id));
    let found: Array<[string | null, string | null]> | null = null;
    try {
      found = await this.mgetPairs(keys);
      this.note(null);
    } catch (err) {
      this.note(err as Error);
    }
    const rows = await Promise.all(
      reads.map(async (read, i) => {
        const [cached, v] = found?.[i] ?? [null, null];
        if (cached !== null) return read.revive(JSON.parse(cached));
        const version = found === null ? null : (v ?? '');
        const row = await read.load();
        if (row && version !== null && (!read.storeIf || read.storeIf(row))) {
          const [rowKey, versionKey] = keys[i];
          await this.redis.pixmillCacheStore(rowKey, versionKey, version, JSON.stringify(row), this.ttlSeconds).catch((err) => this.note(err));
        }
        return row;
      }),
    );
    return rows as CachedRows<R>;
  }

  /** [row, version] of each key pair. */
  private async mgetPairs(pairs: Array<[string, string]>): Promise<Array<[string | null, string | null]>> {
    if ((this.redis as unknown as { isCluster?: boolean }).isCluster) {
      return Promise.all(pairs.map(async (pair) => (await this.redis.mget(...pair)) as [string | null, string | null]));
    }
    const values = await this.redis.mget(...pairs.flat());
    return pairs.map((_, i) => [values[2 * i], values[2 * i + 1]]);
  }

  /**
   * Call after writing rows: invalidates now, or, when `em` is inside a transaction,
   * once that transaction has ended (see the class comment).
   */
  async afterWrite(kind: CachedRowKind, ids: string[], em?: EntityManager): Promise<void> {
    const runner = em?.queryRunner;
    if (runner?.isTransactionActive) {
      let map = this.pending.get(runner);
      if (!map) this.pending.set(runner, (map = new Map()));
      for (const id of ids) map.set(`${kind}:${id}`, [kind, id]);
      return;
    }
    await this.invalidate(kind, ids);
  }

  /** Bumps the versions and drops the cached rows now. Never throws. */
  async invalidate(kind: CachedRowKind, ids: string[]): Promise<void> {
    await this.invalidateAll(ids.map((id) => [kind, id]));
  }

  afterTransactionCommit(event: TransactionCommitEvent): Promise<void> | void {
    return this.flush(event.queryRunner);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): Promise<void> | void {
    return this.flush(event.queryRunner);
  }

  /** Runs what waited for the transaction, once its outermost level has ended (a savepoint release is not a commit). */
  private flush(runner: QueryRunner): Promise<void> | void {
    if (runner.isTransactionActive) return;
    const map = this.pending.get(runner);
    if (!map) return;
    this.pending.delete(runner);
    return this.invalidateAll([...map.values()]);
  }

  private async invalidateAll(rows: Array<[CachedRowKind, string]>): Promise<void> {
    if (!rows.length) return;
    // One call per row, not a pipeline: on Redis Cluster each row's keys live in their own
    // slot, and a pipeline must stay in one. Auto-pipelining still sends them in one write.
    const results = await Promise.allSettled(rows.map(([kind, id]) => this.redis.pixmillCacheBump(...this.keys(kind, id), VERSION_TTL_SECONDS)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    this.note(failed ? (failed.reason as Error) : null);
  }

  private keys(kind: CachedRowKind, id: string): [string, string] {
    const base = `${this.prefix}{${kind}:${id}}`;
    return [base, `${base}:v`];
  }

  /** Logs once when the cache starts failing and once when it answers again. */
  private note(err: Error | null): void {
    if (err && !this.failing) this.logger.warn(`read cache unavailable, reading PostgreSQL: ${err.message}`);
    else if (!err && this.failing) this.logger.log('read cache available again');
    this.failing = !!err;
  }
}
