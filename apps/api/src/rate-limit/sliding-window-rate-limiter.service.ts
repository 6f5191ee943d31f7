import { Inject, Injectable } from '@nestjs/common';
import type IORedis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '@pixmill/config';
import { REDIS } from '@pixmill/queue';

/** The outcome of one rate-limit check. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window frees a slot (the oldest counted request leaves it). */
  resetSeconds: number;
}

/** Thrown when Redis does not answer in time; the guard turns it into 503. */
export class RateLimiterUnavailableError extends Error {}

/**
 * Sliding-window log, one sorted set per key (score = request time in ms). One script
 * per check, so concurrent API instances cannot both take the last slot. Redis's own
 * clock is used, so API hosts with skewed clocks share one window. A refused request
 * is not logged: a client that keeps hammering gets its slots back as the window slides.
 */
const SLIDING_WINDOW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], window)
local resetMs = window
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then resetMs = tonumber(oldest[2]) + window - now end
return {allowed, count, resetMs}
`;

/**
 * The same window, taking up to ARGV[3] slots at once for one API process (members ARGV[4]..):
 * first removes the members listed after them (slots an earlier lease of this process left
 * unused, ARGV[5 + want]..), then adds as many as the limit leaves room for. Returns
 * {granted, count, resetMs}.
 */
const SLIDING_WINDOW_LEASE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
for i = 4 + want, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local granted = math.min(want, math.max(limit - count, 0))
for i = 1, granted do redis.call('ZADD', KEYS[1], now, ARGV[3 + i]) end
count = count + granted
redis.call('PEXPIRE', KEYS[1], window)
local resetMs = window
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then resetMs = tonumber(oldest[2]) + window - now end
return {granted, count, resetMs}
`;

/** Slots one lease takes at most: a busy user's requests on one process cost one script per this many. */
const MAX_LEASE = 8;
/** How long leased slots may be spent; then the ones left are given back. Far inside any window. */
const LEASE_TTL_MS = 1000;
/** Leases kept per process (users active within the last LEASE_TTL_MS); past it, expired ones are dropped first. */
const MAX_LEASED_KEYS = 10_000;

/** Slots this process took for one key and has not spent yet. */
interface Lease {
  /** Members in Redis not yet spent by a request. */
  spare: string[];
  expiresAt: number;
  limit: number;
  /** The window's count in Redis when the lease was taken (spare slots included). */
  count: number;
  /** When the oldest counted request leaves the window, as of `takenAt`. */
  resetMs: number;
  takenAt: number;
  /** Requests this lease served: the next lease's size. */
  used: number;
  /** A lease being taken for this key: concurrent requests wait for it instead of taking their own. */
  pending?: Promise<void>;
}

/**
 * A Redis that does not answer within this is treated as down (ioredis would otherwise
 * queue the call). Not lower: under load the API's own event loop delays the reply, and
 * the benchmark saw spurious 503s at 200 ms on a saturated 2-core machine.
 */
const REDIS_TIMEOUT_MS = 1000;

type RateLimitRedis = IORedis & {
  pixmillSlidingWindow(key: string, windowMs: number, limit: number, member: string): Promise<[number, number, number]>;
  pixmillSlidingWindowLease(key: string, windowMs: number, limit: number, want: number, ...members: string[]): Promise<[number, number, number]>;
};

@Injectable()
export class SlidingWindowRateLimiter {
  private readonly redis: RateLimitRedis;
  /** Keys live under the deployment's queue prefix (braces dropped: each key is its own Cluster slot). */
  private readonly keyPrefix: string;
  /** Members must be unique across API processes: a random prefix per process and a counter (no randomness per request). */
  private readonly memberPrefix = `${randomBytes(6).toString('hex')}-`;
  private counter = 0;
  private readonly leases = new Map<string, Lease>();

  constructor(@Inject(REDIS) redis: IORedis, config: AppConfig) {
    if (!('pixmillSlidingWindow' in redis)) {
      redis.defineCommand('pixmillSlidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW_SCRIPT });
    }
    if (!('pixmillSlidingWindowLease' in redis)) {
      redis.defineCommand('pixmillSlidingWindowLease', { numberOfKeys: 1, lua: SLIDING_WINDOW_LEASE_SCRIPT });
    }
    this.redis = redis as RateLimitRedis;
    this.keyPrefix = `${config.redis.queuePrefix.replace(/[{}]/g, '')}:rl:`;
  }

  /** Counts one request against `key` if a slot is free. Rejects with RateLimiterUnavailableError when Redis is down or slow. */
  async hit(key: string, limit: number, windowMs = 60_000): Promise<RateLimitDecision> {
    const member = this.member();
    const [allowed, count, resetMs] = await this.call(() => this.redis.pixmillSlidingWindow(this.keyPrefix + key, windowMs, limit, member));
    return { allowed: allowed === 1, limit, remaining: Math.max(limit - count, 0), resetSeconds: Math.max(Math.ceil(resetMs / 1000), 1) };
  }

  /**
   * hit() for the per-request limit of busy keys (docs/decisions/048): this process takes
   * slots from the shared window a few at a time and spends them locally, so a user sending
   * many requests to one API process costs one script per lease, not one per request. A lease
   * is as large as the last one was used (1 for a key that was quiet, at most MAX_LEASE) and
   * never more than a quarter of what the window has left, so near the limit it is one slot
   * at a time, exact. Slots a lease did not spend go back after LEASE_TTL_MS. The window can
   * therefore refuse a user at most (MAX_LEASE − 1) slots early per other API process, for at
   * most a second; it never lets more than the limit through.
   */
  async hitLeased(key: string, limit: number, windowMs = 60_000): Promise<RateLimitDecision> {
    for (;;) {
      const now = Date.now();
      const lease = this.leases.get(key);
      if (lease?.pending) {
        await lease.pending;
        continue;
      }
      if (lease && lease.limit === limit && lease.expiresAt > now && lease.spare.length) {
        lease.spare.pop();
        lease.used++;
        return this.decision(lease, now, true);
      }
      return this.takeLease(key, limit, windowMs, lease, now);
    }
  }

  private async takeLease(key: string, limit: number, windowMs: number, previous: Lease | undefined, now: number): Promise<RateLimitDecision> {
    const remainingBefore = previous ? Math.max(previous.limit - previous.count + previous.spare.length, 0) : limit;
    const want = Math.max(1, Math.min(MAX_LEASE, (previous?.used ?? 0) + 1, Math.ceil(remainingBefore / 4)));
    const members = Array.from({ length: want }, () => this.member());
    const stale = previous?.spare ?? [];
    const lease: Lease = { spare: [], expiresAt: 0, limit, count: 0, resetMs: windowMs, takenAt: now, used: 0 };
    let settle!: () => void;
    lease.pending = new Promise<void>((resolve) => (settle = resolve));
    this.leases.set(key, lease);
    try {
      const [granted, count, resetMs] = await this.call(() =>
        this.redis.pixmillSlidingWindowLease(this.keyPrefix + key, windowMs, limit, want, ...members, ...stale),
      );
      Object.assign(lease, { spare: members.slice(0, granted), count, resetMs, takenAt: Date.now(), expiresAt: Date.now() + LEASE_TTL_MS });
      if (!granted) {
        this.leases.delete(key);
        return { allowed: false, limit, remaining: 0, resetSeconds: Math.max(Math.ceil(resetMs / 1000), 1) };
      }
      lease.spare.pop();
      lease.used = 1;
      this.scheduleReturn(key, lease, windowMs);
      this.bound();
      return this.decision(lease, Date.now(), true);
    } catch (err) {
      this.leases.delete(key);
      throw err;
    } finally {
      lease.pending = undefined;
      settle();
    }
  }

  /**
   * Once the lease has expired: forgets it (the key's next lease starts at one slot again) and
   * gives back the slots it did not spend, unless a newer lease took them along already.
   */
  private scheduleReturn(key: string, lease: Lease, windowMs: number): void {
    const timer = setTimeout(() => {
      if (this.leases.get(key) !== lease) return; // a newer lease gave them back with its own script
      this.leases.delete(key);
      if (!lease.spare.length) return;
      const spare = lease.spare;
      lease.spare = [];
      this.call(() => this.redis.pixmillSlidingWindowLease(this.keyPrefix + key, windowMs, lease.limit, 0, ...spare)).catch(() => {
        // Redis down: the slots leave the window with it, or slide out within windowMs.
      });
    }, LEASE_TTL_MS + 10);
    timer.unref();
  }

  private decision(lease: Lease, now: number, allowed: boolean): RateLimitDecision {
    const spent = lease.count - lease.spare.length;
    return {
      allowed,
      limit: lease.limit,
      remaining: Math.max(lease.limit - spent, 0),
      resetSeconds: Math.max(Math.ceil((lease.resetMs - (now - lease.takenAt)) / 1000), 1),
    };
  }

  /** Keeps the lease map bounded: expired leases go first (their timers give their slots back). */
  private bound(): void {
    if (this.leases.size <= MAX_LEASED_KEYS) return;
    const now = Date.now();
    for (const [k, l] of this.leases) {
      if (this.leases.size <= MAX_LEASED_KEYS) break;
      if (!l.pending && l.expiresAt <= now) this.leases.delete(k);
    }
  }

  private member(): string {
    return `${Date.now()}-${this.memberPrefix}${(this.counter++).toString(36)}`;
  }

  /** One Redis call that fails with RateLimiterUnavailableError when Redis is down or slower than REDIS_TIMEOUT_MS. */
  private async call<T>(op: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RateLimiterUnavailableError(`Redis did not answer in ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
    });
    try {
      const call = op();
      call.catch(() => undefined); // settles after the timeout when Redis is down; nobody waits for it then
      return await Promise.race([call, timeout]);
    } catch (err) {
      throw err instanceof RateLimiterUnavailableError ? err : new RateLimiterUnavailableError((err as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }
}
