import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { freePort, jpeg, png, startApi, startWorkerProcess, WebhookReceiver, type RunningApi, type WorkerProcess } from '@pixmill/testing';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureWebBuild } = require('../../scripts/ensure-build');

/** What page.evaluate sees of an <img> (the test compiles without the DOM types). */
type ImgElement = { complete: boolean; naturalWidth: number };

/** Polls `read` until `ok` holds (or fails with the last value after `timeoutMs`). */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** `UPDATE_SCREENSHOTS=1 npm test -- test/e2e/web-console` rewrites the README's screenshots. */
const SHOTS = process.env.UPDATE_SCREENSHOTS ? path.join(ROOT, 'docs', 'screenshots') : mkdtempSync(path.join(tmpdir(), 'pixmill-shots-'));
/** A screenshot as a small palette PNG (they are committed for the README). */
async function shot(page: Page, name: string): Promise<void> {
  await sharp(await page.screenshot({ fullPage: true })).png({ palette: true, colours: 64, compressionLevel: 9 }).toFile(path.join(SHOTS, name));
}
const PHONE = { width: 375, height: 740 };
/** Phone-width screenshots, to look at when the check below fails (not committed). */
const PHONE_SHOTS = mkdtempSync(path.join(tmpdir(), 'pixmill-phone-'));
/**
 * What makes a screen hard to use on a phone, read in the page: the document scrolls sideways, or a
 * control (button, field, menu, a link styled as one or in the navigation) pokes out of the viewport
 * or is smaller than 24 × 24 px, WCAG 2.2's minimum target. Links inside running text are exempt
 * from the size rule, as in WCAG, but must stay on screen too.
 */
const PHONE_PROBLEMS = `(() => {
  const vw = document.documentElement.clientWidth;
  const found = [];
  if (document.documentElement.scrollWidth > vw) found.push('scrolls sideways: ' + document.documentElement.scrollWidth + ' px wide');
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea')) {
    if (el.matches('.skip, .visually-hidden')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = el.tagName.toLowerCase() + ' "' + (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || el.id).trim().slice(0, 40) + '"';
    if (r.left < -0.5 || r.right > vw + 0.5) found.push(name + ' reaches ' + Math.round(r.left) + '..' + Math.round(r.right) + ' px');
    const control = !el.matches('a') || el.matches('.button, nav a');
    if (control && (r.width < 24 || r.height < 24)) found.push(name + ' is ' + Math.round(r.width) + ' × ' + Math.round(r.height) + ' px');
  }
  return found;
})()`;
const ENV = {
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  STORAGE_LOCAL_DIR: mkdtempSync(path.join(tmpdir(), 'pixmill-web-')),
};

describe('web console in Chromium (e2e)', () => {
  let api: RunningApi;
  let worker: WorkerProcess;
  let receiver: WebhookReceiver;
  let browser: Browser;
  let page: Page;
  const email = `web-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const consoleErrors: string[] = [];
  /** The page's API calls as `METHOD /path type`: the SDK's browser entry makes them (XHR for uploads). */
  const apiCalls = new Set<string>();
  /** First-load JS by URL: bytes on the wire (compressed) and decoded. */
  const jsBytes = new Map<string, { wire: number; decoded: number }>();

  beforeAll(async () => {
    ensureWebBuild({ quiet: true });
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
    [api, receiver] = await Promise.all([startApi(ENV), WebhookReceiver.start()]);
    worker = await startWorkerProcess({ ...ENV, PUBLIC_BASE_URL: api.baseUrl, WORKER_METRICS_PORT: String(await freePort()) });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('request', (r) => {
      const { pathname } = new URL(r.url());
      if (pathname.startsWith('/v1/') || pathname.startsWith('/i/')) apiCalls.add(`${r.method()} ${pathname.replace(/[0-9a-f-]{36}/g, '{id}')} ${r.resourceType()}`);
    });
    page.on('response', async (r) => {
      if (r.status() === 404) consoleErrors.push(`404 ${r.url()}`);
      if (new URL(r.url()).pathname.startsWith('/assets/') && r.url().endsWith('.js')) {
        const decoded = (await r.body()).length;
        jsBytes.set(r.url(), { wire: Number(r.headers()['content-length'] ?? decoded), decoded });
      }
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await Promise.all([api?.close(), receiver?.close()]);
  });

  it('serves the console at / with a strict CSP, hashed assets cached for a year and an SPA fallback', async () => {
    const index = await fetch(`${api.baseUrl}/`, { headers: { accept: 'text/html' } });
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const js = await fetch(api.baseUrl + asset);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(js.headers.get('cache-control')).toContain('max-age=31536000');
    // Precompressed at build time: a browser that takes brotli gets the .br file.
    const br = await fetch(api.baseUrl + asset, { headers: { 'accept-encoding': 'br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(await br.text()).toBe(await js.text());
    // A client-side route is the page too; an API path that does not exist stays a problem.
    const deep = await fetch(`${api.baseUrl}/images/6b0f7e9a-3c1d-4e5f-8a9b-0c1d2e3f4a5b`, { headers: { accept: 'text/html' } });
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    const missing = await fetch(`${api.baseUrl}/v1/nothing-here`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect((await fetch(`${api.baseUrl}/assets/nope-123.js`)).status).toBe(404);
  });

  it('signs up, uploads three images, builds resize → grayscale → webp, sees the job succeed, adds a webhook, logs out and in', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    const started = Date.now();
    await page.goto(`${api.baseUrl}/`);
    await page.getByRole('link', { name: /sign up/i }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Gallery' }).waitFor();
    const timeToGalleryMs = Date.now() - started;
    await page.getByText('No images yet').waitFor();

    const dir = mkdtempSync(path.join(tmpdir(), 'pixmill-web-files-'));
    const files = await Promise.all(
      [
        ['harbour.jpg', jpeg(640, 480, { seed: 3 })],
        ['meadow.jpg', jpeg(480, 640, { seed: 7 })],
        ['tiles.png', png(320, 320, 5)],
      ].map(async ([name, bytes]) => {
        const p = path.join(dir, name as string);
        writeFileSync(p, await (bytes as Promise<Buffer>));
        return p;
      }),
    );
    await nav.getByRole('link', { name: 'Upload' }).click();
    await page.getByLabel('Images to upload').setInputFiles(files);
    for (const name of ['harbour.jpg', 'meadow.jpg', 'tiles.png']) {
      await page.locator('.uploads li[data-state="done"]', { hasText: name }).waitFor({ timeout: 30_000 });
    }
    // A file that is no image is refused with the API's own reason.
    const text = path.join(dir, 'notes.jpg');
    writeFileSync(text, 'just some text, not a picture');
    await page.getByLabel('Images to upload').setInputFiles([text]);
    await page.locator('.uploads li[data-state="failed"]', { hasText: 'notes.jpg' }).getByText(/unsupported type/i).waitFor();

    // Thumbnails arrive a moment late (held here, then fetched for real): meanwhile each shows the
    // ThumbHash the API sent with the image, as a data: PNG the page's CSP allows.
    await page.route(/thumbnail-256\.webp/, async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue().catch(() => undefined);
    });
    await nav.getByRole('link', { name: 'Gallery' }).click();
    const thumbs = page.locator('.gallery img');
    const placeholders = page.locator('.gallery img[data-placeholder="shown"]');
    await placeholders.first().waitFor({ timeout: 30_000 });
    expect(await placeholders.first().evaluate((img: { style: { backgroundImage: string } }) => img.style.backgroundImage)).toMatch(/^url\("data:image\/png;base64,/);
    await until(() => thumbs.count(), (n) => n === 3, 30_000);
    for (let i = 0; i < 3; i++) await until(() => thumbs.nth(i).evaluate((img: ImgElement) => (img.complete ? img.naturalWidth : 0)), (w) => w > 0, 15_000);
    await until(() => placeholders.count(), (n) => n === 0);
    await page.unroute(/thumbnail-256\.webp/);
    mkdirSync(SHOTS, { recursive: true });
    await shot(page, 'gallery.png');

    await page.getByRole('link', { name: 'harbour.jpg' }).click();
    await page.getByRole('heading', { name: 'harbour.jpg' }).waitFor();
    await page.getByRole('link', { name: 'Transform' }).click();
    await page.getByLabel('Add operation').selectOption('resize');
    // The builder checks SPEC's ranges before anything is sent.
    await page.getByLabel('Width (px)').fill('9000');
    await page.getByText('Width (px) must be between 1 and 8192').waitFor();
    expect(await page.getByRole('button', { name: 'Submit job' }).isDisabled()).toBe(true);
    await page.getByLabel('Width (px)').fill('300');
    await page.getByLabel('Add operation').selectOption('grayscale');
    await page.getByLabel('Format').selectOption('webp');
    await until(() => page.getByLabel('Query string').textContent(), (t) => !!t?.includes('?resize=300x&grayscale=true&format=webp'));
    // The live preview: a public signed /i/ URL (SPEC §8) that the <img> loads itself, 300 px wide.
    const preview = page.getByAltText('Preview of the transformation');
    await until(() => preview.evaluate((img: ImgElement) => (img.complete ? img.naturalWidth : 0)).catch(() => 0), (w) => w === 300, 60_000);
    const src = (await preview.getAttribute('src'))!;
    expect(src).toMatch(/^\/i\/[0-9a-f-]{36}\?resize=300x&grayscale=true&format=webp&exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
    expect(await preview.getAttribute('data-source')).toBe('public');
    expect(await page.getByTestId('preview-size').textContent()).toBe('300 × 225 px, webp');
    // No token in it: the same URL loads for anyone, and answers with a cacheable redirect.
    const anonymous = await fetch(api.baseUrl + src, { redirect: 'manual' });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    await page.getByRole('button', { name: 'Submit job' }).click();
    await until(() => page.getByTestId('job-status').textContent(), (t) => t === 'succeeded' || t === 'failed', 60_000);
    expect(await page.getByTestId('job-status').textContent()).toBe('succeeded');
    const url = (await page.getByTestId('job-url').getAttribute('href'))!;
    const rendered = await fetch(url);
    expect(rendered.status).toBe(200);
    const meta = await sharp(Buffer.from(await rendered.arrayBuffer())).metadata();
    expect([meta.format, meta.width]).toEqual(['webp', 300]);
    await shot(page, 'builder.png');

    await nav.getByRole('link', { name: 'Jobs' }).click();
    await page.locator('.jobs li[data-status="succeeded"]').first().waitFor();

    await nav.getByRole('link', { name: 'Webhooks' }).click();
    const hook = receiver.url('console');
    await page.getByLabel('Endpoint URL').fill(hook);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    expect(await page.getByTestId('endpoint-secret').textContent()).toMatch(/^whsec_/);
    await page.getByRole('list', { name: 'Endpoints' }).getByText(hook).waitFor();

    await nav.getByRole('link', { name: 'Account' }).click();
    await page.getByText('Transforms today', { exact: false }).first().waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to Pixmill' }).waitFor();
    // Logged out means the stored refresh token is gone: a reload stays on the login page.
    await page.reload();
    await page.getByRole('heading', { name: 'Log in to Pixmill' }).waitFor();
    await page.getByLabel('Password').fill('wrong password!!');
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').getByText(/invalid|password/i).first().waitFor();
    // Back in with the keyboard alone: Tab to each field, Enter submits; the focus is visible.
    await page.getByLabel('Email').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | null>("document.activeElement.getAttribute('type')")).toBe('password');
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type(password);
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Log in');
    expect(await page.evaluate<string>("getComputedStyle(document.activeElement).outlineStyle")).toBe('solid');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Gallery' }).waitFor();
    // The main navigation is reachable by keyboard too.
    await nav.getByRole('link', { name: 'Jobs' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await nav.getByRole('link', { name: 'Gallery' }).focus();
    await page.keyboard.press('Enter');
    await until(() => thumbs.count(), (n) => n === 3);

    // Expected refusals (401 for the wrong password, 415 for the text file) are logged by Chromium as failed loads.
    expect(consoleErrors.filter((e) => !/status of (401|415)/.test(e))).toEqual([]);
    const sum = (k: 'wire' | 'decoded'): number => [...jsBytes.values()].reduce((a, b) => a + b[k], 0);
    const figures = { firstLoadJsWireBytes: sum('wire'), firstLoadJsBytes: sum('decoded'), jsFiles: jsBytes.size, timeToGalleryMs };
    process.stdout.write(`web console: ${JSON.stringify(figures)}\n`);
    writeFileSync(path.join(SHOTS, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
  }, 180_000);

  it('fits every screen on a 375 px phone: no sideways scroll, every control on screen and big enough to tap', async () => {
    // Runs after the flow above, in the same signed-in page: there are images, a job and an endpoint.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await page.setViewportSize(PHONE);
    const problems: Record<string, string[]> = {};
    const check = async (screen: string, p: Page = page): Promise<void> => {
      const found = await p.evaluate<string[]>(PHONE_PROBLEMS);
      if (found.length) problems[screen] = found;
      await sharp(await p.screenshot({ fullPage: true })).png({ palette: true, colours: 64 }).toFile(path.join(PHONE_SHOTS, `${screen}.png`));
    };
    await nav.getByRole('link', { name: 'Gallery' }).click();
    await until(() => page.locator('.gallery img').count(), (n) => n === 3);
    await check('gallery');
    await page.getByRole('link', { name: 'harbour.jpg' }).click();
    await page.getByRole('heading', { name: 'harbour.jpg' }).waitFor();
    await page.getByRole('table').waitFor();
    await check('image');
    await page.getByRole('link', { name: 'Transform' }).click();
    for (const op of ['resize', 'crop', 'watermark']) await page.getByLabel('Add operation').selectOption(op);
    await page.getByLabel('Width (px)').first().fill('9000');
    await check('builder');
    await nav.getByRole('link', { name: 'Upload' }).click();
    await page.getByRole('button', { name: 'Choose files' }).waitFor();
    await check('upload');
    await nav.getByRole('link', { name: 'Jobs' }).click();
    await page.locator('.jobs li[data-status="succeeded"]').first().waitFor();
    await check('jobs');
    await nav.getByRole('link', { name: 'Webhooks' }).click();
    // A long endpoint URL must wrap, not widen the page.
    const longHook = receiver.url(`console/${'a-rather-long-path-segment-'.repeat(4)}`);
    await page.getByLabel('Endpoint URL').fill(longHook);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByTestId('endpoint-secret').waitFor();
    await page.getByRole('list', { name: 'Endpoints' }).getByText(longHook).waitFor();
    await check('webhooks');
    // The delivery log with real deliveries: an upload's image.ready goes to both endpoints.
    const extra = path.join(mkdtempSync(path.join(tmpdir(), 'pixmill-web-files-')), 'pier.jpg');
    writeFileSync(extra, await jpeg(200, 150, { seed: 11 }));
    await nav.getByRole('link', { name: 'Upload' }).click();
    await page.getByLabel('Images to upload').setInputFiles([extra]);
    await page.locator('.uploads li[data-state="done"]', { hasText: 'pier.jpg' }).waitFor({ timeout: 30_000 });
    await nav.getByRole('link', { name: 'Webhooks' }).click();
    const log = page.getByRole('list', { name: 'Deliveries' }).getByRole('listitem');
    const settled = page.locator('.deliveries li, p.empty:has-text("No deliveries")').first();
    await until(
      async () => {
        await page.reload();
        await settled.waitFor();
        return log.count();
      },
      (n) => n >= 2,
      30_000,
    );
    await page.getByLabel('Endpoint', { exact: true }).selectOption({ label: longHook });
    await page.getByRole('button', { name: 'Filter' }).click();
    await until(() => page.evaluate<string>('location.search'), (q) => q.startsWith('?endpointId='));
    await until(() => log.allTextContents(), (rows) => rows.length === 1 && rows[0].includes('image.ready') && rows[0].includes(longHook));
    await check('webhooks-log');
    // The SDK in the page: uploads through XMLHttpRequest (upload progress), other calls through fetch, a
    // session resumed after the reloads above by one refresh, previews loaded by <img> from /i/.
    expect([...apiCalls]).toEqual(expect.arrayContaining(['POST /v1/images xhr', 'POST /v1/auth/refresh fetch', 'GET /v1/images fetch', 'GET /v1/url-keys fetch', 'GET /i/{id} image']));
    await page.getByRole('button', { name: 'Show all' }).click();
    await until(() => log.count(), (n) => n >= 2);
    await nav.getByRole('link', { name: 'Account' }).click();
    await page.getByText('Transforms today', { exact: false }).first().waitFor();
    await check('account');
    // Signed out: a fresh page has no session.
    const anon = await browser.newPage({ viewport: PHONE });
    anon.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    anon.on('pageerror', (e) => consoleErrors.push(e.message));
    await anon.goto(`${api.baseUrl}/login`);
    await anon.getByRole('heading', { name: 'Log in to Pixmill' }).waitFor();
    await check('login', anon);
    await anon.getByRole('link', { name: /sign up/i }).click();
    await anon.getByRole('heading', { name: 'Create your Pixmill account' }).waitFor();
    await check('signup', anon);
    await anon.close();
    expect(problems).toEqual({});
    expect(consoleErrors.filter((e) => !/status of (401|415)/.test(e))).toEqual([]);
  }, 120_000);

  it('an account whose public URLs take presets only previews through a job, and says so', async () => {
    // The same account, set to presets-only through the API by a second session of its owner.
    const auth = await (await fetch(`${api.baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })).json() as { accessToken: string };
    const patch = (publicUrls: string) =>
      fetch(`${api.baseUrl}/v1/me`, { method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${auth.accessToken}` }, body: JSON.stringify({ publicUrls }) });
    expect((await patch('presets-only')).status).toBe(200);
    await page.setViewportSize({ width: 1100, height: 800 });
    // A fresh load: the builder reads the setting with the account.
    await page.goto(`${api.baseUrl}/gallery`);
    await page.getByRole('link', { name: 'meadow.jpg' }).click();
    await page.getByRole('link', { name: 'Transform' }).click();
    await page.getByLabel('Add operation').selectOption('sepia');
    await page.getByText('take presets only', { exact: false }).waitFor();
    const preview = page.getByAltText('Preview of the transformation');
    await until(() => preview.evaluate((img: ImgElement) => (img.complete ? img.naturalWidth : 0)).catch(() => 0), (w) => w === 480, 60_000);
    expect(await preview.getAttribute('data-source')).toBe('job');
    expect(await preview.getAttribute('src')).not.toMatch(/^\/i\//);
    expect(await page.getByTestId('preview-size').textContent()).toMatch(/^480 × 640 px, jpeg, \d/);
    expect((await patch('any')).status).toBe(200);
    expect(consoleErrors.filter((e) => !/status of (401|415)/.test(e))).toEqual([]);
  }, 120_000);
});
