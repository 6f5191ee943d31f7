import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import {
  expectProblem,
  freePort,
  HttpClient,
  HttpResponse,
  jpeg,
  RunningApi,
  startApi,
  startWorkerProcess,
  TEST_DATABASE_URL,
  TestUser,
  uploadForm,
  UserFactory,
  WorkerProcess,
} from '@pixmill/testing';
import type { PlanName } from '@pixmill/config';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

/** The limits of SPEC §6, set explicitly so the suite does not depend on defaults; pro is lowered to stay quick. */
const LIMITS = {
  RATE_LIMIT_PER_MINUTE: '100',
  AUTH_RATE_LIMIT_PER_MINUTE: '10',
  PLAN_FREE_DAILY_TRANSFORMS: '20',
  PLAN_PRO_DAILY_TRANSFORMS: '30',
  // The suite plays a proxy on 127.0.0.1 that names each test's client in X-Forwarded-For.
  TRUST_PROXY: 'loopback',
};

/** A client IP of its own for each test, so no two tests share an auth bucket. */
let ipSeq = 0;
const uniqueIp = () => `198.51.${(process.pid >> 8) % 256}.${++ipSeq % 256}`;

function secondsUntilUtcMidnight(): number {
  const now = new Date();
  return Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000);
}

const statusCounts = (answers: HttpResponse[]) =>
  answers.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});

describe('abuse protection (e2e)', () => {
  /** The API under test, with real limits. */
  let api: RunningApi;
  let http: HttpClient;
  /** A second API on the same database and Redis without limits, only to sign test users up from 127.0.0.1. */
  let setup: RunningApi;
  let db: Client;

  beforeAll(async () => {
    [api, setup] = await Promise.all([startApi(LIMITS), startApi()]);
    http = new HttpClient(api.baseUrl);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await Promise.all([api?.close(), setup?.close()]);
    await db?.end();
  });

  /** A user signed up through the setup API, calling the limited API. */
  async function user(plan: PlanName = 'free'): Promise<TestUser> {
    const u = await new UserFactory(new HttpClient(setup.baseUrl)).plan(plan).create();
    return { ...u, http: http.as(u.accessToken) };
  }

  async function upload(u: TestUser): Promise<string> {
    const res = await u.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(64, 48), 'small.jpg') });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  const rotate = (angle: number) => ({ operations: [{ op: 'rotate', angle }] });

  describe('request rate limits', () => {
    it('the 101st request of a user within a minute → 429 with RateLimit-* and Retry-After; another user is unaffected', async () => {
      const [a, b] = await Promise.all([user(), user()]);
      for (let i = 1; i <= 100; i++) {
        const res = await a.http.get('/v1/me');
        expect({ i, status: res.status }).toEqual({ i, status: 200 });
        expect({ i, remaining: res.headers.get('ratelimit-remaining') }).toEqual({ i, remaining: String(100 - i) });
      }
      const over = await a.http.get('/v1/me');
      expectProblem(over, 429, 'rate_limited');
      expect(over.headers.get('ratelimit-limit')).toBe('100');
      expect(over.headers.get('ratelimit-remaining')).toBe('0');
      const retryAfter = Number(over.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(over.headers.get('ratelimit-reset')).toBe(String(retryAfter));

      const other = await b.http.get('/v1/me');
      expect(other.status).toBe(200);
      expect(other.headers.get('ratelimit-remaining')).toBe('99');
    });

    it('150 parallel requests of one user → exactly 100 pass (one atomic check per request)', async () => {
      const u = await user();
      const answers = await Promise.all(Array.from({ length: 150 }, () => u.http.get('/v1/me')));
      expect(statusCounts(answers)).toEqual({ 200: 100, 429: 50 });
    });

    it('normal answers carry RateLimit-Limit, -Remaining and -Reset; health, files and the OpenAPI document are not limited', async () => {
      const u = await user();
      const res = await u.http.get('/v1/me');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('100');
      expect(res.headers.get('ratelimit-remaining')).toBe('99');
      const reset = Number(res.headers.get('ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
      // Errors after the guard (here a 404) still tell the caller where they stand.
      const missing = await u.http.get(`/v1/images/${randomUUID()}`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('ratelimit-remaining')).toBe('98');

      for (const p of ['/health/live', '/openapi.json', '/files/nothing-here']) {
        const r = await u.http.get(p);
        expect({ p, limited: r.headers.get('ratelimit-limit') }).toEqual({ p, limited: null });
      }
    });

    it('OpenAPI documents 429 (with Retry-After and RateLimit-*) and 503 on every /v1 route, and on no health route', async () => {
      const doc = (await http.get('/openapi.json')).body;
      for (const [p, ops] of Object.entries(doc.paths) as [string, Record<string, any>][]) {
        for (const [m, op] of Object.entries(ops)) {
          const limited = p.startsWith('/v1/');
          expect({ route: `${m} ${p}`, has429: '429' in op.responses, has503: '503' in op.responses || !limited }).toEqual({
            route: `${m} ${p}`,
            // /i/ is not limited per request, but a new render counts against the owner's rate and quota (429).
            has429: limited || p.startsWith('/i/'),
            has503: true,
          });
          if (limited) expect(Object.keys(op.responses['429'].headers)).toEqual(expect.arrayContaining(['Retry-After', 'RateLimit-Remaining']));
        }
      }
    });

    it('11 failed logins from one IP → the 11th is 429; another IP still logs in', async () => {
      const u = await user();
      const ip = uniqueIp();
      for (let i = 1; i <= 10; i++) {
        const res = await http.post('/v1/auth/login', { email: u.email, password: 'wrong password!' }, { 'x-forwarded-for': ip });
        expectProblem(res, 401, 'invalid_credentials');
        expect(res.headers.get('ratelimit-limit')).toBe('10');
        expect(res.headers.get('ratelimit-remaining')).toBe(String(10 - i));
      }
      const blocked = await http.post('/v1/auth/login', { email: u.email, password: u.password }, { 'x-forwarded-for': ip });
      expectProblem(blocked, 429, 'rate_limited');
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      const elsewhere = await http.post('/v1/auth/login', { email: u.email, password: u.password }, { 'x-forwarded-for': uniqueIp() });
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.headers.get('ratelimit-remaining')).toBe('9');
      // The per-user bucket is separate from the IP bucket of the auth routes.
      expect((await u.http.get('/v1/me')).headers.get('ratelimit-remaining')).toBe('99');
    });

    it('X-Forwarded-For from a peer that is not a trusted proxy is ignored: no fresh auth bucket per spoofed address', async () => {
      // Its own key prefix, so the peer's bucket (127.0.0.1, which the rest of the suite also fills) starts empty.
      const direct = await startApi({ ...LIMITS, TRUST_PROXY: '', QUEUE_PREFIX: `{${randomUUID()}}` });
      try {
        const client = new HttpClient(direct.baseUrl);
        const u = await user();
        const answers = [];
        for (let i = 0; i < 11; i++) {
          answers.push(await client.post('/v1/auth/login', { email: u.email, password: 'wrong password!' }, { 'x-forwarded-for': uniqueIp() }));
        }
        expect(answers.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(401));
        expectProblem(answers[10], 429, 'rate_limited');
      } finally {
        await direct.close();
      }
    });

    it('Redis unreachable → 503 `unavailable` on limited routes, /health/live still 200', async () => {
      const u = await user();
      const broken = await startApi({ ...LIMITS, REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` });
      try {
        const client = new HttpClient(broken.baseUrl);
        expectProblem(await client.as(u.accessToken).get('/v1/me'), 503, 'unavailable');
        expectProblem(await client.post('/v1/auth/login', { email: u.email, password: u.password }, { 'x-forwarded-for': uniqueIp() }), 503, 'unavailable');
        expect((await client.get('/health/live')).status).toBe(200);
      } finally {
        await broken.close();
      }
    });
  });

  describe('daily transform quota', () => {
    it('50 parallel new renders by a free user → exactly 20 × 202 and 30 × 429 `daily_quota_exceeded` with Retry-After until UTC midnight', async () => {
      const u = await user();
      const id = await upload(u);
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => u.http.post(`/v1/images/${id}/transformations`, rotate(i + 1))),
      );
      expect(statusCounts(answers)).toEqual({ 202: 20, 429: 30 });
      const refused = answers.find((r) => r.status === 429)!;
      expectProblem(refused, 429, 'daily_quota_exceeded');
      expect(Math.abs(Number(refused.headers.get('retry-after')) - secondsUntilUtcMidnight())).toBeLessThanOrEqual(5);
      const { rows } = await db.query('SELECT count(*)::int AS n FROM jobs WHERE image_id = $1', [id]);
      expect(rows[0].n).toBe(20);
      const me = await u.http.get('/v1/me');
      expect(me.body.usage).toMatchObject({ transformsToday: 20, dailyTransformQuota: 20 });

      // With the quota used up, asking again for a render already in flight joins it; a new one is refused.
      const accepted = answers.find((r) => r.status === 202)!;
      const again = await u.http.post(`/v1/images/${id}/transformations`, accepted.body.spec);
      expect(again.status).toBe(202);
      expect(again.body.id).toBe(accepted.body.id);
      expectProblem(await u.http.post(`/v1/images/${id}/transformations`, rotate(77)), 429, 'daily_quota_exceeded');
      expectProblem(await u.http.get(`/v1/images/${id}/transform?rotate=78&wait=0`), 429, 'daily_quota_exceeded');
    });

    it('duplicates of a render in flight and Idempotency-Key replays cost nothing', async () => {
      const u = await user();
      const id = await upload(u);
      const first = await u.http.post(`/v1/images/${id}/transformations`, rotate(5), { 'idempotency-key': 'k-1' });
      expect(first.status).toBe(202);
      const dupes = await Promise.all(Array.from({ length: 10 }, () => u.http.post(`/v1/images/${id}/transformations`, rotate(5))));
      expect(dupes.map((r) => [r.status, r.body.id])).toEqual(Array(10).fill([202, first.body.id]));
      const replay = await u.http.post(`/v1/images/${id}/transformations`, rotate(5), { 'idempotency-key': 'k-1' });
      expect(replay.body.id).toBe(first.body.id);
      const onTheFly = await u.http.get(`/v1/images/${id}/transform?rotate=5&wait=0`);
      expect(onTheFly.status).toBe(202);
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(1);
    });

    it('a job canceled before it rendered gives its unit back; a second cancel gives nothing more', async () => {
      const u = await user();
      const id = await upload(u);
      const jobs = [];
      for (const angle of [11, 12, 13]) jobs.push((await u.http.post(`/v1/images/${id}/transformations`, rotate(angle))).body.id);
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(3);
      expect((await u.http.delete(`/v1/jobs/${jobs[1]}`)).status).toBe(200);
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(2);
      expectProblem(await u.http.delete(`/v1/jobs/${jobs[1]}`), 409, 'job_not_cancelable');
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(2);
    });

    it('the count starts over on a new UTC day, in the same statement that takes the unit', async () => {
      const u = await user();
      const id = await upload(u);
      await db.query(`UPDATE users SET transforms_today = 20, transforms_day = (now() AT TIME ZONE 'utc')::date - 1 WHERE id = $1`, [u.id]);
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(0);
      expect((await u.http.post(`/v1/images/${id}/transformations`, rotate(1))).status).toBe(202);
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(1);
    });

    it('a pro user has the pro limit', async () => {
      const u = await user('pro');
      const id = await upload(u);
      const answers = await Promise.all(
        Array.from({ length: 35 }, (_, i) => u.http.post(`/v1/images/${id}/transformations`, rotate(i + 1))),
      );
      expect(statusCounts(answers)).toEqual({ 202: 30, 429: 5 });
      expect((await u.http.get('/v1/me')).body).toMatchObject({ plan: 'pro', usage: { transformsToday: 30, dailyTransformQuota: 30 } });
    });

    describe('with a worker process', () => {
      let worker: WorkerProcess;
      beforeAll(async () => {
        worker = await startWorkerProcess({ STORAGE_LOCAL_DIR: api.config.storage.localDir });
      });
      afterAll(async () => {
        await worker?.stop();
      });

      it('cache hits cost nothing', async () => {
        const u = await user();
        const id = await upload(u);
        const first = await u.http.post(`/v1/images/${id}/transformations`, rotate(90));
        expect(first.status).toBe(202);
        const done = await u.http.get(`/v1/jobs/${first.body.id}?wait=30`);
        expect(done.body.status).toBe('succeeded');
        for (let i = 0; i < 3; i++) {
          const hit = await u.http.post(`/v1/images/${id}/transformations`, rotate(90));
          expect(hit.status).toBe(200);
          expect(hit.body.cached).toBe(true);
        }
        expect((await u.http.get(`/v1/images/${id}/transform?rotate=90`)).status).toBe(302);
        expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(1);
      });
    });
  });

  describe('admin CLI', () => {
    const admin = (...args: string[]) =>
      run(process.execPath, [path.join(ROOT, 'scripts/admin.js'), ...args], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: 'silent' },
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
      );

    beforeAll(() => {
      // The CLI runs from dist/; build it once here rather than inside a test's timeout.
      require(path.join(ROOT, 'scripts/ensure-build.js')).ensureBuild({ quiet: true });
    }, 300_000);

    it('set-plan EMAIL pro moves the account to pro; /v1/me shows the pro quota', async () => {
      const u = await user();
      const res = await admin('set-plan', u.email.toUpperCase(), 'pro');
      expect(res).toMatchObject({ code: 0, stdout: expect.stringContaining(`is now on plan pro`) });
      expect((await u.http.get('/v1/me')).body).toMatchObject({ plan: 'pro', usage: { dailyTransformQuota: 30 } });
    });

    it('exit 1 with a clear message for an unknown email or plan', async () => {
      const u = await user();
      const unknownEmail = await admin('set-plan', `nobody-${randomUUID()}@example.com`, 'pro');
      expect(unknownEmail).toMatchObject({ code: 1, stderr: expect.stringContaining('no account with email') });
      const unknownPlan = await admin('set-plan', u.email, 'platinum');
      expect(unknownPlan).toMatchObject({ code: 1, stderr: expect.stringContaining('unknown plan platinum') });
      expect((await u.http.get('/v1/me')).body.plan).toBe('free');
    });
  });
});
