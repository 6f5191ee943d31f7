import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { HttpClient, jpeg, RunningApi, startApi, startWorkerProcess, uploadForm, UserFactory, WorkerProcess } from '@pixmill/testing';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** What page.evaluate sees of an <img> (the test compiles without the DOM types). */
type ImgState = { id: string; complete: boolean; failed: boolean; naturalWidth: number; naturalHeight: number; currentSrc: string };

/** Signs a target as SPEC §8 says, independently of the API's own code. */
const sign = (key: string, target: string) => `${target}&sig=${createHmac('sha256', key).update(target).digest('base64url')}`;

/**
 * Signed public URLs in a real browser: a page on another origin, with no token, shows
 * `<img src>` and `<img srcset>` of /i/ URLs at the sizes they ask for, and a tampered
 * URL shows nothing.
 */
describe('public image URLs in Chromium (e2e)', () => {
  let api: RunningApi;
  let worker: WorkerProcess;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;
  let html = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
    api = await startApi({ RATE_LIMIT_PER_MINUTE: '100000' });
    worker = await startWorkerProcess({ STORAGE_LOCAL_DIR: api.config.storage.localDir });
    // The site that embeds the images: its own origin (another port), serving one static page.
    site = createServer((req, res) => {
      res.writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' }).end(req.url === '/' ? html : '');
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://localhost:${(site.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => site?.close(r));
    await worker?.stop();
    await api?.close();
  });

  it('<img src> and <img srcset> of signed /i/ URLs load at the asked sizes on a page with no token; a tampered URL does not load', async () => {
    const http = new HttpClient(api.baseUrl);
    const u = await new UserFactory(http).plan('pro').create();
    const up = await u.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(1200, 900), 'photo.jpg') });
    expect(up.status).toBe(201);
    const id = up.body.id;
    const key = (await u.http.get('/v1/url-keys')).body.keys[0].key;
    const src = `${api.baseUrl}${sign(key, `/i/${id}?resize=300x200&fit=fill&format=auto`)}`;
    const tampered = src.replace('300x200', '301x200');
    const srcset = await u.http.get(`/v1/images/${id}/srcset?widths=320,640&format=png`);
    expect(srcset.status).toBe(200);
    const candidates = new Map<string, number>(srcset.body.srcset.split(', ').map((e: string) => [e.split(' ')[0], Number(e.split(' ')[1].slice(0, -1))]));

    html = `<!doctype html><html><head><meta charset="utf-8"><title>Pixmill public URLs</title></head><body>
      <img id="plain" src="${src}" alt="">
      <img id="responsive" src="${srcset.body.src}" srcset="${srcset.body.srcset}" sizes="${srcset.body.sizes}" alt="">
      <img id="tampered" src="${tampered}" alt="">
      <script>for (const img of document.images) img.addEventListener('error', () => img.dataset.failed = '1');</script>
    </body></html>`;

    const imageRequests: Array<{ authorization?: string; referer?: string }> = [];
    /** Loads the page in a fresh browser context of that viewport width; the <img>s once each has loaded or failed. */
    const load = async (width: number): Promise<Record<string, ImgState>> => {
      const context = await browser.newContext({ viewport: { width, height: 800 }, deviceScaleFactor: 1 });
      try {
        const page = await context.newPage();
        page.on('request', (r) => {
          if (r.url().startsWith(`${api.baseUrl}/i/`)) imageRequests.push({ authorization: r.headers().authorization, referer: r.headers().referer });
        });
        await page.goto(siteUrl);
        const states = () =>
          page.evaluate<ImgState[]>(`[...document.images].map((img) => ({
            id: img.id, complete: img.complete, failed: img.dataset.failed === '1',
            naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, currentSrc: img.currentSrc,
          }))`);
        // A first request renders (the route waits up to 10 s for it).
        const deadline = Date.now() + 60_000;
        let seen = await states();
        while (!seen.every((s) => s.complete && (s.naturalWidth > 0 || s.failed)) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 250));
          seen = await states();
        }
        return Object.fromEntries(seen.map((s) => [s.id, s]));
      } finally {
        await context.close();
      }
    };

    // sizes is "(max-width: 640px) 100vw, 640px": a 640 px wide page takes the 640w candidate, a 320 px one the 320w.
    for (const width of [640, 320]) {
      const imgs = await load(width);
      expect([imgs.plain.naturalWidth, imgs.plain.naturalHeight]).toEqual([300, 200]);
      expect(candidates.get(imgs.responsive.currentSrc)).toBe(width);
      expect([imgs.responsive.naturalWidth, imgs.responsive.naturalHeight]).toEqual([width, (width * 900) / 1200]);
      expect(imgs.tampered).toMatchObject({ complete: true, failed: true, naturalWidth: 0 });
    }

    // The page carried no token: the browser asked for /i/ with no Authorization, from the site's page.
    expect(imageRequests.length).toBeGreaterThanOrEqual(6);
    for (const r of imageRequests) expect(r).toEqual({ authorization: undefined, referer: siteUrl });
  }, 120_000);
});
