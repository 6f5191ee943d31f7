import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { chromium } from 'playwright-core';
import { expectProblem, freePort, HttpClient, RunningApi, startApi, TEST_DATABASE_URL, TestUser, UserFactory } from '@pixmill/testing';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The queue dashboard (Bull Board at /admin/queues, docs/decisions/059): an admin asks for a
 * single-use link with their session, the browser that opens it gets a dashboard cookie and
 * sees every queue; a non-admin, an anonymous caller and a stale or forged cookie get 404.
 */
describe('Queue dashboard (e2e)', () => {
  let api: RunningApi;
  let http: HttpClient;
  let admin: TestUser;
  let user: TestUser;

  const setRole = (email: string, role: string) =>
    run(process.execPath, [path.join(ROOT, 'scripts/admin.js'), 'set-role', email, role], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: 'silent' },
    });

  /** What a browser does with the link: open it, keep the cookie. */
  const signIn = async (who: TestUser): Promise<string> => {
    const link = await who.http.post('/v1/admin/queues/session');
    expect(link.status).toBe(201);
    const url = new URL(link.body.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${api.baseUrl}/admin/queues/login`);
    const opened = await http.get(`${url.pathname}${url.search}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/admin/queues/');
    const setCookie = opened.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^pixmill_admin=[^;]+; Path=\/admin\/queues; Max-Age=900; HttpOnly; SameSite=Lax/);
    return setCookie.split(';')[0];
  };

  beforeAll(async () => {
    // The admin command runs from dist/: build it once here rather than inside a test's timeout.
    require(path.join(ROOT, 'scripts/ensure-build.js')).ensureBuild({ quiet: true });
    api = await startApi();
    http = new HttpClient(api.baseUrl);
    admin = await new UserFactory(http).create();
    user = await new UserFactory(http).create();
    const res = await setRole(admin.email.toUpperCase(), 'admin');
    expect(res.stdout).toContain(`now has role admin`);
  }, 300_000);
  afterAll(() => api?.close());

  it('an admin opens the link, sees the dashboard page (with its CSP) and every queue, the transform queue included', async () => {
    const cookie = await signIn(admin);

    const page = await http.get('/admin/queues/', { cookie, accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<base href="/admin/queues/"');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);

    // The page's own script, as its <base> resolves it, loads under the same rule.
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${api.baseUrl}/admin/queues/${script}`, { headers: { cookie } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);

    const queues = await http.get('/admin/queues/api/queues', { cookie });
    expect(queues.status).toBe(200);
    const names = queues.body.queues.map((q: { name: string }) => q.name);
    expect(names).toEqual(expect.arrayContaining(['transform', 'webhook', 'cleanup', 'system']));
    expect(queues.body.queues.every((q: { readOnlyMode: boolean }) => q.readOnlyMode === true)).toBe(true);
  });

  it('in a browser: an admin logs in to the console, opens the board from Account, sees the queues; its CSP blocks nothing of its own', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${api.baseUrl}/login`);
      await page.getByLabel('Email').fill(admin.email);
      await page.getByLabel('Password').fill(admin.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL('**/gallery'); // logged in: the console moves on by itself first
      await page.getByRole('link', { name: 'Account' }).click();
      await page.getByRole('button', { name: 'Open the queue dashboard' }).click();
      await page.waitForURL(`${api.baseUrl}/admin/queues/`, { timeout: 30_000 });
      await page.getByText('transform', { exact: true }).first().waitFor({ timeout: 30_000 });
      await expect(page.title()).resolves.toBe('Pixmill queues');
      // The only refusal is the third-party font stylesheet, left blocked on purpose (decision 059).
      expect(problems.filter((p) => !/fonts\.googleapis\.com/.test(p))).toEqual([]);

      // A non-admin's Account page has no such button.
      const other = await browser.newPage();
      await other.goto(`${api.baseUrl}/login`);
      await other.getByLabel('Email').fill(user.email);
      await other.getByLabel('Password').fill(user.password);
      await other.getByRole('button', { name: 'Log in' }).click();
      await other.waitForURL('**/gallery');
      await other.getByRole('link', { name: 'Account' }).click();
      await other.getByText(user.email).waitFor();
      expect(await other.getByRole('button', { name: 'Open the queue dashboard' }).count()).toBe(0);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('the dashboard is read-only: an admin cannot retry, clean or pause jobs behind the job rows (405)', async () => {
    const cookie = await signIn(admin);
    for (const [method, route] of [
      ['PUT', '/admin/queues/api/queues/transform/retry/failed'],
      ['PUT', '/admin/queues/api/queues/transform/clean/completed'],
      ['PUT', '/admin/queues/api/queues/pause'],
      ['POST', '/admin/queues/api/queues/transform/add'],
    ]) {
      const res = await http.request(method, route, { headers: { cookie }, json: {} });
      expectProblem(res, 405, 'method_not_allowed');
    }
    // Without a session the same calls are simply not there.
    expectProblem(await http.request('PUT', '/admin/queues/api/queues/pause', { json: {} }), 404, 'not_found');
  });

  it('with Redis down, the board answers 503 unavailable with Retry-After (problem+json), not its own 500', async () => {
    // An API on a Redis of its own, which the test stops once the admin has a dashboard cookie.
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const other = await startApi({ REDIS_URL: `redis://127.0.0.1:${port}/0` });
    try {
      const client = new HttpClient(other.baseUrl);
      let link = await client.as(admin.accessToken).post('/v1/admin/queues/session');
      for (let i = 0; link.status !== 201 && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100)); // redis-server starting
        link = await client.as(admin.accessToken).post('/v1/admin/queues/session');
      }
      expect(link.status).toBe(201);
      const url = new URL(link.body.url);
      const opened = await client.get(`${url.pathname}${url.search}`);
      expect(opened.status).toBe(303);
      const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0];
      expect((await client.get('/admin/queues/api/queues', { cookie })).status).toBe(200);

      const gone = new Promise((r) => redis.once('exit', r));
      redis.kill('SIGKILL');
      await gone;
      const down = await client.get('/admin/queues/api/queues', { cookie });
      expectProblem(down, 503, 'unavailable');
      expect(down.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
      expect(down.body.detail).toMatch(/Redis/);
    } finally {
      redis.kill('SIGKILL');
      await other.close();
    }
  }, 60_000);

  it('GET /v1/me shows the role', async () => {
    expect((await admin.http.get('/v1/me')).body.role).toBe('admin');
    expect((await user.http.get('/v1/me')).body.role).toBe('user');
  });

  it('a non-admin gets 404 for the link and the dashboard; a session cookie of another account does not help', async () => {
    expectProblem(await user.http.post('/v1/admin/queues/session'), 404, 'not_found');
    expectProblem(await http.get('/admin/queues/', { accept: 'text/html' }), 404, 'not_found');
    expectProblem(await user.http.get('/admin/queues/api/queues'), 404, 'not_found');
  });

  it('anonymous callers get 404 everywhere under /admin/queues (401 for the link route, which needs a session)', async () => {
    expectProblem(await http.get('/admin/queues/', { accept: 'text/html' }), 404, 'not_found');
    expectProblem(await http.get('/admin/queues/api/queues'), 404, 'not_found');
    expectProblem(await http.get('/admin/queues/static/favicon.ico'), 404, 'not_found');
    expectProblem(await http.get('/admin/queues/login?ticket=nonsense'), 404, 'not_found');
    expectProblem(await http.post('/v1/admin/queues/session'), 401, 'unauthorized');
  });

  it('a link works once; a forged cookie is refused; demoting the admin closes the dashboard at once', async () => {
    const link = await admin.http.post('/v1/admin/queues/session');
    const { pathname, search } = new URL(link.body.url);
    expect((await http.get(`${pathname}${search}`)).status).toBe(303);
    expectProblem(await http.get(`${pathname}${search}`), 404, 'not_found');

    const cookie = await signIn(admin);
    const [name, value] = cookie.split('=');
    const [payload, mac] = value.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: user.id })).toString('base64url');
    expectProblem(await http.get('/admin/queues/api/queues', { cookie: `${name}=${forged}.${mac}` }), 404, 'not_found');

    expect((await http.get('/admin/queues/api/queues', { cookie })).status).toBe(200);
    const db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      await setRole(admin.email, 'user');
      expect((await db.query('SELECT role FROM users WHERE id = $1', [admin.id])).rows[0].role).toBe('user');
    } finally {
      await db.end();
    }
    expectProblem(await http.get('/admin/queues/api/queues', { cookie }), 404, 'not_found');
    expectProblem(await admin.http.post('/v1/admin/queues/session'), 404, 'not_found');
    await setRole(admin.email, 'admin');
  });

  it('an API key never opens the dashboard, even an admin’s with every scope', async () => {
    const key = await admin.http.post('/v1/api-keys', { name: 'ops', scopes: ['images:read', 'images:write', 'transformations', 'webhooks', 'account'] });
    expect(key.status).toBe(201);
    expectProblem(await http.as(key.body.key).post('/v1/admin/queues/session'), 403, 'insufficient_scope');
  });

  it('set-role refuses an unknown role or email', async () => {
    await expect(setRole(user.email, 'root')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('unknown role root') });
    await expect(setRole('nobody@example.invalid', 'admin')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('no account with email') });
  });
});
