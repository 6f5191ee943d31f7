import { randomUUID } from 'node:crypto';
import { AddressInfo, createServer, Socket } from 'node:net';
import type IORedis from 'ioredis';
import { createRedisConnection } from '@pixmill/queue';
import { testConfig, TEST_REDIS_URL } from '@pixmill/testing';
import {
  RateLimiterUnavailableError,
  SlidingWindowRateLimiter,
} from '../../apps/api/src/rate-limit/sliding-window-rate-limiter.service';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SlidingWindowRateLimiter (real Redis)', () => {
  let redis: IORedis;
  let limiter: SlidingWindowRateLimiter;
  const config = testConfig();

  beforeAll(() => {
    redis = createRedisConnection(TEST_REDIS_URL, 'client', 'rate-limit-test');
    limiter = new SlidingWindowRateLimiter(redis, config);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('admits `limit` requests per window, refuses the rest without counting them, and frees slots as the window slides', async () => {
    const key = `test:${randomUUID()}`;
    const first = await limiter.hit(key, 3, 1000);
    expect(first).toEqual({ allowed: true, limit: 3, remaining: 2, resetSeconds: 1 });
    await sleep(400);
    expect((await limiter.hit(key, 3, 1000)).remaining).toBe(1);
    expect((await limiter.hit(key, 3, 1000)).remaining).toBe(0);
    const refused = await limiter.hit(key, 3, 1000);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    // Only the oldest request has left the window after ~650 ms: exactly one slot is free.
    await sleep(650);
    expect(await limiter.hit(key, 3, 1000)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await limiter.hit(key, 3, 1000)).allowed).toBe(false);
  });

  it('keys live under the deployment prefix and expire with the window', async () => {
    const key = `test:${randomUUID()}`;
    await limiter.hit(key, 5, 60_000);
    const stored = `${config.redis.queuePrefix.replace(/[{}]/g, '')}:rl:${key}`;
    expect(await redis.zcard(stored)).toBe(1);
    const ttl = await redis.pttl(stored);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('fails fast with RateLimiterUnavailableError when Redis accepts the connection but does not answer', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const hanging = createRedisConnection(`redis://127.0.0.1:${port}/0`, 'client', 'rate-limit-test-hanging');
    try {
      // Without its own timeout the call would sit in ioredis's offline queue until the test times out.
      await expect(new SlidingWindowRateLimiter(hanging, config).hit('x', 1)).rejects.toBeInstanceOf(RateLimiterUnavailableError);
    } finally {
      hanging.disconnect();
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
