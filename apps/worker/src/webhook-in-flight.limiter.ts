import { Inject, Injectable, Logger } from '@nestjs/common';
import type IORedis from 'ioredis';
import { AppConfig } from '@pixmill/config';
import { REDIS } from '@pixmill/queue';

/**
 * One sorted set per user: a member per delivery attempt in flight, scored with the moment
 * its lease runs out (Redis's clock, ms). Expired leases are dropped before counting, so
 * an attempt whose worker died gives its place back by itself. One script, so workers
 * racing for a user's last place cannot both take it.
 */
const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** A lease outlives its attempt's own timeout by this much: the reads and writes around the request. */
const LEASE_MARGIN_MS = 15_000;

type LimiterRedis = IORedis & {
  pixmillTakeInFlight(key: string, attempt: string, limit: number, leaseMs: number): Promise<number>;
};

/**
 * WEBHOOK_MAX_IN_FLIGHT_PER_USER across all workers (docs/decisions/014): a user whose
 * receiver hangs holds at most that many delivery slots, for WEBHOOK_TIMEOUT_MS each, and
 * the other slots stay free for everyone else.
 */
@Injectable()
export class WebhookInFlightLimiter {
  private readonly logger = new Logger('WebhookInFlightLimiter');
  private readonly redis: LimiterRedis;
  /** Under the deployment's queue prefix (braces dropped: each user's key is its own Cluster slot). */
  private readonly keyPrefix: string;

  constructor(@Inject(REDIS) redis: IORedis, private readonly config: AppConfig) {
    if (!('pixmillTakeInFlight' in redis)) redis.defineCommand('pixmillTakeInFlight', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.redis = redis as LimiterRedis;
    this.keyPrefix = `${config.redis.queuePrefix.replace(/[{}]/g, '')}:webhook-in-flight:`;
  }

  /**
   * Takes a place for `attempt` among `userId`'s deliveries in flight; false when all are
   * taken. When Redis does not answer, the attempt goes ahead without one: the cap guards
   * fairness, and is not worth a delivery.
   */
  async tryTake(userId: string, attempt: string): Promise<boolean> {
    const { maxInFlightPerUser, timeoutMs } = this.config.webhooks;
    try {
      return (await this.redis.pixmillTakeInFlight(this.keyPrefix + userId, attempt, maxInFlightPerUser, timeoutMs + LEASE_MARGIN_MS)) === 1;
    } catch (err) {
      this.logger.warn(`could not count the webhook deliveries in flight of user ${userId}: ${(err as Error).message}`);
      return true;
    }
  }

  async release(userId: string, attempt: string): Promise<void> {
    try {
      await this.redis.zrem(this.keyPrefix + userId, attempt);
    } catch {
      // The lease runs out by itself.
    }
  }
}
