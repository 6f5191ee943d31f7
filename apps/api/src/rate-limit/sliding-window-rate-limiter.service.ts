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
 * A Redis that does not answer within this is treated as down (ioredis would otherwise
 * queue the call). Not lower: under load the API's own event loop delays the reply, and
 * the benchmark saw spurious 503s at 200 ms on a saturated 2-core machine.
 */
const REDIS_TIMEOUT_MS = 1000;

type RateLimitRedis = IORedis & {
  pixmillSlidingWindow(key: string, windowMs: number, limit: number, member: string): Promise<[number, number, number]>;
};

@Injectable()
export class SlidingWindowRateLimiter {
  private readonly redis: RateLimitRedis;
  /** Keys live under the deployment's queue prefix (braces dropped: each key is its own Cluster slot). */
  private readonly keyPrefix: string;
  /** Members must be unique across API processes: a random prefix per process and a counter (no randomness per request). */
  private readonly memberPrefix = `${randomBytes(6).toString('hex')}-`;
  private counter = 0;

  constructor(@Inject(REDIS) redis: IORedis, config: AppConfig) {
    if (!('pixmillSlidingWindow' in redis)) {
      redis.defineCommand('pixmillSlidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW_SCRIPT });
    }
    this.redis = redis as RateLimitRedis;
    this.keyPrefix = `${config.redis.queuePrefix.replace(/[{}]/g, '')}:rl:`;
  }

  /** Counts one request against `key` if a slot is free. Rejects with RateLimiterUnavailableError when Redis is down or slow. */
  async hit(key: string, limit: number, windowMs = 60_000): Promise<RateLimitDecision> {
    const member = `${Date.now()}-${this.memberPrefix}${(this.counter++).toString(36)}`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RateLimiterUnavailableError(`Redis did not answer in ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
    });
    try {
      const call = this.redis.pixmillSlidingWindow(this.keyPrefix + key, windowMs, limit, member);
      call.catch(() => undefined); // settles after the timeout when Redis is down; nobody waits for it then
      const [allowed, count, resetMs] = await Promise.race([call, timeout]);
      return {
        allowed: allowed === 1,
        limit,
        remaining: Math.max(limit - count, 0),
        resetSeconds: Math.max(Math.ceil(resetMs / 1000), 1),
      };
    } catch (err) {
      throw err instanceof RateLimiterUnavailableError ? err : new RateLimiterUnavailableError((err as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }
}
