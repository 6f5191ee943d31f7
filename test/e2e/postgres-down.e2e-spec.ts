import { Client } from 'pg';
import { migrate } from '@pixmill/db';
import { expectProblem, HttpClient, pollUntil, PrivatePostgres, RunningApi, startApi, TestUser, UserFactory } from '@pixmill/testing';

/**
 * PostgreSQL going away under a running API: every route that needs it answers 503
 * `unavailable` with Retry-After (never 500), readiness names it, and the API serves again
 * once PostgreSQL is back, without a restart. A PostgreSQL of the test's own, so it can die.
 */
describe('PostgreSQL down (e2e)', () => {
  jest.setTimeout(180_000);
  let pg: PrivatePostgres;
  let api: RunningApi;
  let http: HttpClient;
  let user: TestUser;
  /** The queue dashboard's cookie of an admin: the dashboard reads the role on every request. */
  let dashboardCookie: string;

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    const url = pg.url('pixmill');
    await migrate(url);
    api = await startApi({ DATABASE_URL: url });
    http = new HttpClient(api.baseUrl);
    user = await new UserFactory(http).create();
    const db = new Client({ connectionString: url });
    await db.connect();
    await db.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
    await db.end();
    const link = new URL((await user.http.post('/v1/admin/queues/session')).body.url);
    const opened = await http.get(`${link.pathname}${link.search}`);
    dashboardCookie = (opened.headers.get('set-cookie') ?? '').split(';')[0];
    expect((await http.get('/admin/queues/api/queues', { cookie: dashboardCookie })).status).toBe(200);
  });

  afterAll(async () => {
    await api?.close();
    await pg?.destroy();
  });

  async function expectUnavailable(): Promise<void> {
    const answers = [
      await user.http.get('/v1/me'),
      await user.http.get('/v1/images'),
      await user.http.get('/v1/jobs/00000000-0000-4000-8000-000000000000'),
      await http.post('/v1/auth/login', { email: user.email, password: user.password }),
      await http.post('/v1/auth/signup', { email: `late-${Date.now()}@example.com`, password: 'long enough password' }),
      await http.post('/v1/auth/refresh', { refreshToken: user.refreshToken }),
      await http.get('/admin/queues/api/queues', { cookie: dashboardCookie }),
    ];
    for (const res of answers) {
      expectProblem(res, 503, 'unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const ready = await http.get('/health/ready');
    expectProblem(ready, 503, 'unavailable');
    expect(ready.body.checks).toMatchObject({ postgres: 'down', redis: 'up', storage: 'up' });
    expect((await http.get('/health/live')).status).toBe(200);
  }

  async function expectRecovered(): Promise<void> {
    const me = await pollUntil(() => user.http.get('/v1/me'), (r) => r.status === 200, 30_000);
    expect(me.body.email).toBe(user.email);
    expect((await http.get('/health/ready')).status).toBe(200);
    const login = await http.post('/v1/auth/login', { email: user.email, password: user.password });
    expect(login.status).toBe(200);
    user = { ...user, refreshToken: login.body.refreshToken };
  }

  it('crash (immediate stop): refused connections answer 503 with Retry-After, then serve again after restart', async () => {
    expect((await user.http.get('/v1/me')).status).toBe(200);
    await pg.stop('immediate');
    await expectUnavailable();
    await pg.start();
    await expectRecovered();
  });

  it('clean shutdown (sessions terminated, 57P01) answers 503 too, and recovers', async () => {
    expect((await user.http.get('/v1/me')).status).toBe(200);
    await pg.stop('fast');
    await expectUnavailable();
    await pg.start();
    await expectRecovered();
  });
});
