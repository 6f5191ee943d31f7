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

  describe('leased slots (hitLeased, decision 048)', () => {
    const stored = (key: string) => `${config.redis.queuePrefix.replace(/[{}]/g, '')}:rl:${key}`;

    it('one process alone: every answer is exact, the limit holds, and a busy key costs a script per lease, not per request', async () => {
      const key = `test:${randomUUID()}`;
      const calls = jest.spyOn(redis as unknown as { pixmillSlidingWindowLease: () => unknown }, 'pixmillSlidingWindowLease');
      calls.mockClear();
      const answers = [];
      for (let i = 0; i < 40; i++) answers.push(await limiter.hitLeased(key, 30, 60_000));
      calls.mockRestore();
      expect(answers.slice(0, 30).map((a) => a.remaining)).toEqual(Array.from({ length: 30 }, (_, i) => 29 - i));
      expect(answers.slice(0, 30).every((a) => a.allowed)).toBe(true);
      expect(answers.slice(30).every((a) => !a.allowed && a.remaining === 0)).toBe(true);
      expect(await redis.zcard(stored(key))).toBe(30); // exactly the requests let through: no slot leased and lost
      // 30 admitted requests took far fewer than 30 scripts (leases of 1, 2, 3, … up to 8, one slot at a time near the limit).
      const scriptsForAdmitted = calls.mock.calls.length - 10;
      expect(scriptsForAdmitted).toBeLessThan(20);
    });

    it('two processes share one window: together they never let more than the limit through', async () => {
      const key = `test:${randomUUID()}`;
      const other = new SlidingWindowRateLimiter(redis, config);
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? limiter : other).hitLeased(key, 25, 60_000)),
      );
      expect(results.filter((r) => r.allowed).length).toBeLessThanOrEqual(25);
      expect(results.filter((r) => r.allowed).length).toBeGreaterThanOrEqual(25 - 2 * 7); // at most a lease's spare early, per process
      expect(await redis.zcard(stored(key))).toBeLessThanOrEqual(25);
    });

    it('slots a lease did not spend go back to the window once it expires', async () => {
      const key = `test:${randomUUID()}`;
      for (let i = 0; i < 5; i++) await limiter.hitLeased(key, 100, 60_000); // leases of 1, 2, 3: the last has a spare slot
      const counted = await redis.zcard(stored(key));
      expect(counted).toBe(6);
      await sleep(1300);
      expect(await redis.zcard(stored(key))).toBe(5);
      // And a quiet key starts again at one slot: the next answer is exact.
      expect((await limiter.hitLeased(key, 100, 60_000)).remaining).toBe(94);
    });

    it('Redis that does not answer: RateLimiterUnavailableError, and the next request tries again', async () => {
      const sockets: Socket[] = [];
      const silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as AddressInfo;
      const hanging = createRedisConnection(`redis://127.0.0.1:${port}/0`, 'client', 'rate-limit-test-hanging-lease');
      try {
        const l = new SlidingWindowRateLimiter(hanging, config);
        await expect(l.hitLeased('x', 10)).rejects.toBeInstanceOf(RateLimiterUnavailableError);
        await expect(l.hitLeased('x', 10)).rejects.toBeInstanceOf(RateLimiterUnavailableError);
      } finally {
        hanging.disconnect();
        sockets.forEach((s) => s.destroy());
        await new Promise((r) => silent.close(r));
      }
    });
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
