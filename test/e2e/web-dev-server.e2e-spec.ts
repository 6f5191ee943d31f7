import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { freePort, startApi, type RunningApi } from '@pixmill/testing';

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const UUID = '6b0f7e9a-3c1d-4e5f-8a9b-0c1d2e3f4a5b';

/**
 * `npm run dev:web`: Vite's dev server with React Fast Refresh, in front of the real API. It runs on
 * a copy of apps/web, so the test can edit a component the way a developer would.
 */
describe('web console dev server (npm run dev:web)', () => {
  let api: RunningApi;
  let vite: ChildProcess;
  let browser: Browser;
  let dev: string;
  let copy: string;
  const output: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
    // The copy sees the repository's node_modules and libs (the builder imports libs/imaging's plain modules).
    copy = mkdtempSync(path.join(tmpdir(), 'pixmill-dev-web-'));
    mkdirSync(path.join(copy, 'apps'));
    cpSync(path.join(ROOT, 'apps/web'), path.join(copy, 'apps/web'), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    symlinkSync(path.join(ROOT, 'libs'), path.join(copy, 'libs'));
    api = await startApi({ STORAGE_LOCAL_DIR: mkdtempSync(path.join(tmpdir(), 'pixmill-dev-web-data-')) });
    const port = await freePort();
    dev = `http://127.0.0.1:${port}`;
    vite = spawn(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), '--config', 'apps/web/vite.config.mts', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
      cwd: copy,
      env: { ...process.env, PIXMILL_API_URL: api.baseUrl, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    vite.stdout!.on('data', (d) => output.push(String(d)));
    vite.stderr!.on('data', (d) => output.push(String(d)));
    const deadline = Date.now() + 60_000;
    while (!(await fetch(dev).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline || vite.exitCode !== null) throw new Error(`Vite did not start:\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    vite?.kill('SIGTERM');
    await api?.close();
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('passes the API paths the console uses to the API, and keeps its own screens', async () => {
    const html = { headers: { accept: 'text/html' } };
    const page = await (await fetch(`${dev}/`, html)).text();
    expect(page).toContain('/@react-refresh');
    // The console's own routes, even where the API has a path under the same prefix.
    for (const route of ['/account', `/images/${UUID}`, `/images/${UUID}/builder`, '/webhooks?jobId=x']) {
      expect(await (await fetch(dev + route, html)).text()).toBe(page);
    }
    const me = await fetch(`${dev}/v1/me`);
    expect([me.status, ((await me.json()) as { code: string }).code]).toEqual([401, 'unauthorized']);
    const publicUrl = await fetch(`${dev}/i/${UUID}?resize=10x&sig=AAAA`);
    expect([publicUrl.status, ((await publicUrl.json()) as { code: string }).code]).toEqual([403, 'signature_invalid']);
    const verify = await fetch(`${dev}/account/verify-email?token=abc`, html);
    expect(await verify.text()).toContain('/v1/auth/verify');
    expect(((await (await fetch(`${dev}/openapi.json`)).json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
  });

  it('signs up through the proxy, and an edited component updates in place (Fast Refresh keeps the screen state)', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${dev}/signup`);
    await page.getByLabel('Email').fill(`dev-${Date.now()}@example.com`);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Gallery' }).waitFor();
    await page.getByText('No images yet').waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByLabel('Status').selectOption('failed');
    await page.evaluate('window.__sameDocument = true');
    const file = path.join(copy, 'apps/web/src/screens/jobs-screen.tsx');
    writeFileSync(file, readFileSync(file, 'utf8').replace('<h1>Jobs</h1>', '<h1>Jobs, hot</h1>'));
    await page.getByRole('heading', { name: 'Jobs, hot' }).waitFor({ timeout: 20_000 });
    // Not a reload: the same document, and the screen's state (the chosen status) survived.
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(await page.getByLabel('Status').inputValue()).toBe('failed');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
