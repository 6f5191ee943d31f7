import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import { PixmillError, Pixmill, signUrl, Tokens, verifyWebhook } from '@pixmill/sdk';
import { fileSource } from '@pixmill/sdk/node';
import {
  contractFetch,
  HttpClient,
  installTarballs,
  jpeg,
  npmPack,
  png,
  runCommand,
  RunningApi,
  startApi,
  startWorkerProcess,
  TEST_QUEUE_PREFIX,
  textFile,
  WebhookReceiver,
  WorkerProcess,
} from '@pixmill/testing';

const ENV = {
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  STORAGE_LOCAL_DIR: mkdtempSync(path.join(tmpdir(), 'pixmill-sdk-')),
};

describe('@pixmill/sdk against the running API and a worker (e2e)', () => {
  let api: RunningApi;
  let shortLived: RunningApi;
  /** An API whose queue no worker serves: its jobs stay queued (until the worker's reconciler, seconds later). */
  let idle: RunningApi;
  let worker: WorkerProcess;
  let receiver: WebhookReceiver;
  let n = 0;
  const email = () => `sdk-${Date.now().toString(36)}-${n++}@example.com`;
  const client = (base = api.baseUrl, extra: Partial<ConstructorParameters<typeof Pixmill>[0]> = {}) => new Pixmill({ baseUrl: base, fetch: contractFetch, ...extra });

  beforeAll(async () => {
    [api, shortLived, idle, receiver] = await Promise.all([
      startApi(ENV),
      startApi({ ...ENV, JWT_ACCESS_TTL: '1s' }),
      startApi({ ...ENV, QUEUE_PREFIX: `${TEST_QUEUE_PREFIX.slice(0, -1)}-idle}` }),
      WebhookReceiver.start(),
    ]);
    worker = await startWorkerProcess({ ...ENV, PUBLIC_BASE_URL: api.baseUrl });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), shortLived?.close(), idle?.close(), worker?.stop(), receiver?.close()]);
  });

  it('signup → upload (progress) → transformAndWait → download: the pixels are the spec’s', async () => {
    const px = client();
    await px.signup(email(), 'correct horse battery');
    const bytes = await jpeg(640, 480);
    const progress: number[] = [];
    const image = await px.upload(bytes, { filename: 'photo.jpg', onProgress: (p) => progress.push(p.loaded) });
    expect(image).toMatchObject({ filename: 'photo.jpg', format: 'jpeg', width: 640, height: 480 });
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(bytes.length);

    const job = await px.transformAndWait(image.id, { operations: [{ op: 'resize', width: 200, height: 100, fit: 'fill' }, { op: 'grayscale' }], output: { format: 'png' } });
    expect(job).toMatchObject({ status: 'succeeded', error: null, result: { width: 200, height: 100, format: 'png' } });
    const out = await px.download(job);
    const meta = await sharp(out).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 200, height: 100 });
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    // Grayscale: the sampled pixel's channels are equal.
    const at = (100 * info.width + 50) * info.channels;
    expect(data[at]).toBe(data[at + 1]);
    expect(data[at + 1]).toBe(data[at + 2]);

    // The same spec again is a cache hit: a succeeded job at once.
    const again = await px.transform(image.id, { operations: [{ op: 'resize', width: 200, height: 100, fit: 'fill' }, { op: 'grayscale' }], output: { format: 'png' } });
    expect(again).toMatchObject({ status: 'succeeded', cached: true });
  });

  it('uploads a file from disk as a stream with eager specs, and pages through images and jobs', async () => {
    const px = client();
    await px.signup(email(), 'correct horse battery');
    const dir = mkdtempSync(path.join(tmpdir(), 'pixmill-sdk-files-'));
    const file = path.join(dir, 'disk.jpg');
    writeFileSync(file, await jpeg(320, 240));
    const { data, options } = await fileSource(file);
    let total: number | undefined;
    const image = await px.upload(data, { ...options, eager: [{ output: { format: 'webp' } }], onProgress: (p) => (total = p.total) });
    expect(image).toMatchObject({ filename: 'disk.jpg', width: 320 });
    expect(total).toBe(options.size);
    for (let i = 0; i < 2; i++) await px.upload(await jpeg(64, 48, { seed: i + 2 }), { filename: `small-${i}.jpg` });

    const seen: string[] = [];
    for await (const img of px.listImages({ limit: 1 })) seen.push(img.id);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);
    expect(seen.at(-1)).toBe(image.id);

    const eagerJobs: string[] = [];
    for await (const job of px.listJobs({ imageId: image.id, limit: 1 })) eagerJobs.push(job.id);
    expect(eagerJobs.length).toBeGreaterThanOrEqual(1);
    const eager = await px.waitForJob(eagerJobs[0], { timeout: 30_000 });
    expect(eager.status).toBe('succeeded');
  });

  it('uploads a Blob and a File: the bytes as given, the File’s name and type, progress to the last byte', async () => {
    const px = client();
    await px.signup(email(), 'correct horse battery');
    const bytes = await jpeg(200, 150, { seed: 4 });
    const progress: Array<{ loaded: number; total?: number }> = [];
    const fromBlob = await px.upload(new Blob([bytes], { type: 'image/jpeg' }), { filename: 'blob.jpg', onProgress: (p) => progress.push(p) });
    expect(fromBlob).toMatchObject({ filename: 'blob.jpg', format: 'jpeg', width: 200, height: 150, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(progress[0]).toEqual({ loaded: 0, total: bytes.length });
    expect(progress.at(-1)).toEqual({ loaded: bytes.length, total: bytes.length });

    const file = new File([await png(64, 48)], 'named.png', { type: 'image/png' });
    expect(await px.upload(file)).toMatchObject({ filename: 'named.png', format: 'png', mimeType: 'image/png', width: 64, height: 48 });
  });

  it('waitForJob gives up at its timeout with a `timeout` PixmillError naming the job, after long-polling', async () => {
    const px = client(idle.baseUrl);
    await px.signup(email(), 'correct horse battery');
    const image = await px.upload(await jpeg(64, 48), { filename: 'queued.jpg' });
    const job = await px.transform(image.id, { output: { format: 'webp' } });
    expect(job.status).toBe('queued');
    const started = Date.now();
    const err = await px.waitForJob(job.id, { timeout: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(PixmillError);
    expect(err).toMatchObject({ name: 'PixmillError', code: 'timeout', status: 0, details: { jobId: job.id } });
    expect(err.message).toBe(`job ${job.id} is still queued`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // it waited on the server, it did not give up at once
    expect(await px.transformAndWait(image.id, { output: { format: 'png' } }, { timeout: 1000 }).catch((e) => e)).toMatchObject({ code: 'timeout' });
  });

  it('signUrl: a URL signed with the key from GET /v1/url-keys (exp, a repeated key, percent-encoded text) answers a fetch without a token with 302 to the right pixels', async () => {
    const px = client();
    await px.signup(email(), 'correct horse battery');
    // Left half red, right half blue: which half a crop took shows in its pixels.
    const halves = await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .composite([{ input: { create: { width: 200, height: 300, channels: 3, background: { r: 0, g: 0, b: 255 } } }, left: 200, top: 0 }])
      .png()
      .toBuffer();
    const image = await px.upload(halves, { filename: 'halves.png' });
    const { data: keys } = await px.api.GET('/v1/url-keys');
    const key = keys!.keys[0].key;
    const exp = Math.floor(Date.now() / 1000) + 600;
    // crop twice, in order: x 100–400, then 40 px in: x 140–260 of the original, 60 px red then 60 px blue.
    const options: Array<[string, string]> = [['crop', '300x300+100+0'], ['crop', '120x100+40+50'], ['watermark', 'text:© me'], ['format', 'png']];
    const url = await signUrl(image.id, options, key, { baseUrl: api.baseUrl, expiresAt: exp });
    expect(url).toBe(`${api.baseUrl}/i/${image.id}?crop=300x300%2B100%2B0&crop=120x100%2B40%2B50&watermark=text%3A%C2%A9%20me&format=png&exp=${exp}&sig=${url.split('&sig=')[1]}`);

    const answer = await contractFetch(url, { redirect: 'manual' }); // no Authorization
    expect(answer.status).toBe(302);
    const followed = await fetch(new URL(answer.headers.get('location')!, api.baseUrl));
    expect(followed.status).toBe(200);
    const out = Buffer.from(await followed.arrayBuffer());
    const meta = await sharp(out).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 120, height: 100 });
    const { data, info } = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    expect(pixel(10, 10)).toEqual([255, 0, 0]);
    expect(pixel(110, 10)).toEqual([0, 0, 255]);
    // The text was read as `© me`: the same spec as JSON is the derivative the URL made, a cache hit with the same bytes.
    const same = await px.transform(image.id, {
      operations: [
        { op: 'crop', x: 100, y: 0, width: 300, height: 300 },
        { op: 'crop', x: 40, y: 50, width: 120, height: 100 },
        { op: 'watermark', text: '© me' },
      ],
      output: { format: 'png' },
    });
    expect(same).toMatchObject({ status: 'succeeded', cached: true });
    expect(Buffer.from(await px.download(same))).toEqual(out);

    // The signature covers every byte of the target, and exp is enforced.
    const tampered = await contractFetch(url.replace('%C2%A9%20me', '%C2%A9%20you'), { redirect: 'manual' });
    expect({ status: tampered.status, code: ((await tampered.json()) as { code: string }).code }).toEqual({ status: 403, code: 'signature_invalid' });
    const expired = await contractFetch(await signUrl(image.id, options, key, { baseUrl: api.baseUrl, expiresAt: exp - 3600 }), { redirect: 'manual' });
    expect({ status: expired.status, code: ((await expired.json()) as { code: string }).code }).toEqual({ status: 403, code: 'url_expired' });
  });

  it('problems surface as PixmillError with code, status and requestId', async () => {
    const px = client();
    await px.signup(email(), 'correct horse battery');
    const refused = await px.upload(textFile(), { filename: 'notes.txt' }).catch((e) => e);
    expect(refused).toBeInstanceOf(PixmillError);
    expect(refused).toMatchObject({ code: 'unsupported_media_type', status: 415 });
    expect(refused.requestId).toEqual(expect.any(String));

    const missing = await px.getImage('3f0c7d3e-9a53-4b8e-8f43-2b8a8f0d1e11').catch((e) => e);
    expect(missing).toMatchObject({ code: 'not_found', status: 404 });

    const image = await px.upload(await jpeg(64, 48), { filename: 'a.jpg' });
    const invalid = await px.transform(image.id, { operations: [{ op: 'blur', sigma: 1000 }] }).catch((e) => e);
    expect(invalid).toMatchObject({ code: 'validation_failed', status: 400 });
    expect(invalid.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: expect.stringContaining('sigma') })]));

    const taken = await client().signup((await px.me()).email, 'correct horse battery').catch((e) => e);
    expect(taken).toMatchObject({ code: 'email_taken', status: 409 });
    const wrong = await client().login((await px.me()).email, 'not the password').catch((e) => e);
    expect(wrong).toMatchObject({ code: 'invalid_credentials', status: 401 });
  });

  it('refreshes an expired access token on its own, rotating the refresh token, and the spent one revokes its family', async () => {
    const saved: Array<Tokens | null> = [];
    const px = client(shortLived.baseUrl, { onTokens: (t) => saved.push(t), refreshMarginSeconds: 0 });
    await px.signup(email(), 'correct horse battery');
    const first = saved[0]!;
    await new Promise((r) => setTimeout(r, 1500)); // the 1 s access token is now expired
    const raw = await new HttpClient(shortLived.baseUrl, first.accessToken).get('/v1/me');
    expect(raw.status).toBe(401);

    // Proactively (the SDK knows the expiry) …
    expect((await px.me()).email).toMatch(/^sdk-/);
    expect(saved).toHaveLength(2);
    expect(saved[1]!.refreshToken).not.toBe(first.refreshToken);

    // … and reactively: a client given only an expired access token and a refresh token retries once after a 401.
    await new Promise((r) => setTimeout(r, 1500));
    const given = client(shortLived.baseUrl, { tokens: { accessToken: saved[1]!.accessToken, refreshToken: saved[1]!.refreshToken } });
    expect((await given.me()).email).toMatch(/^sdk-/);
    expect(given.currentTokens!.refreshToken).not.toBe(saved[1]!.refreshToken);

    // Replaying a spent refresh token revokes the family: the latest pair stops working too.
    const replay = client(shortLived.baseUrl, { tokens: { accessToken: 'x', refreshToken: first.refreshToken } });
    expect(await replay.refresh().catch((e) => e)).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(await given.refresh().catch((e) => e)).toMatchObject({ status: 401 });
  });

  it('a delivery to a webhookUrl verifies with the account secret', async () => {
    const px = client();
    await px.signup(email(), 'correct horse battery');
    const { data: secret } = await px.api.GET('/v1/webhook-secret');
    const url = receiver.url('sdk');
    const image = await px.upload(await jpeg(64, 48), { filename: 'w.jpg' });
    const job = await px.transform(image.id, { output: { format: 'webp' } }, { webhookUrl: url });
    const [delivery] = await receiver.waitFor(url, 1, 30_000);
    const event = await verifyWebhook<{ id: string }>(secret!.secret, delivery.headers, delivery.body);
    expect(event).toMatchObject({ type: 'job.succeeded', data: { id: job.id } });
    await expect(verifyWebhook(secret!.secret, delivery.headers, delivery.body.replace('succeeded', 'failed'))).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
  });

  it('webhook endpoints: create (secret once), disable and enable, list, the delivery log one page at a time, redeliver, delete', async () => {
    const px = client();
    await px.signup(email(), 'correct horse battery');
    const url = receiver.url('sdk-endpoint');
    const created = await px.createWebhookEndpoint({ url, events: ['image.ready'], description: 'sdk test' });
    expect(created).toMatchObject({ url, events: ['image.ready'], enabled: true, secret: expect.stringMatching(/^whsec_/) });
    expect(await px.updateWebhookEndpoint(created.id, { enabled: false })).toMatchObject({ id: created.id, enabled: false });
    expect(await px.updateWebhookEndpoint(created.id, { enabled: true })).toMatchObject({ enabled: true });
    expect((await px.listWebhookEndpoints()).map((e) => e.id)).toEqual([created.id]);
    await px.upload(await jpeg(64, 48), { filename: 'a.jpg' });
    await px.upload(await jpeg(48, 64), { filename: 'b.jpg' });
    const [first] = await receiver.waitFor(url, 2, 30_000);
    expect(await verifyWebhook(created.secret, first.headers, first.body)).toMatchObject({ type: 'image.ready' });
    // Pages as an infinite list asks for them: one call each, the cursor of one leading to the next.
    const settled = async () => {
      for (let i = 0; ; i++) {
        const page = await px.webhookDeliveriesPage({ endpointId: created.id, limit: 1 });
        if (page.items[0]?.status === 'succeeded' || i > 50) return page;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const page1 = await settled();
    expect(page1.items).toHaveLength(1);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = await px.webhookDeliveriesPage({ endpointId: created.id, limit: 1, cursor: page1.nextCursor! });
    expect(page2.items).toHaveLength(1);
    expect(page2.items[0].id).not.toBe(page1.items[0].id);
    const images = await px.imagesPage({ limit: 1 });
    expect([images.items.length, typeof images.nextCursor]).toEqual([1, 'string']);
    expect((await px.imagesPage({ limit: 1, cursor: images.nextCursor! })).nextCursor).toBeNull();
    const again = await px.redeliverWebhook(page1.items[0].id);
    expect(again).toMatchObject({ messageId: page1.items[0].messageId, endpointId: created.id });
    await receiver.waitFor(url, 3, 30_000);
    await px.deleteWebhookEndpoint(created.id);
    expect(await px.listWebhookEndpoints()).toEqual([]);
    expect(await px.updateWebhookEndpoint(created.id, { enabled: false }).catch((e) => e)).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('npm pack: the tarball installs into an empty folder and its quick-start example runs: upload → transformAndWait → download', async () => {
    const root = path.resolve(__dirname, '../..');
    const packed = await npmPack(path.join(root, 'libs/sdk'), mkdtempSync(path.join(tmpdir(), 'pixmill-sdk-pack-')));
    expect(packed.files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'examples/quickstart.mjs']));
    const app = await installTarballs([packed.tarball], { type: 'module' });

    const account = { email: `packed-${Date.now().toString(36)}@example.com`, password: 'correct horse battery' };
    await new Pixmill({ baseUrl: api.baseUrl }).signup(account.email, account.password);
    writeFileSync(path.join(app, 'photo.jpg'), await jpeg(640, 480));
    const example = path.join(app, 'node_modules/@pixmill/sdk/examples/quickstart.mjs');
    const printed = await runCommand(process.execPath, [example, 'photo.jpg', 'out.webp'], app, {
      PIXMILL_API_URL: api.baseUrl,
      PIXMILL_EMAIL: account.email,
      PIXMILL_PASSWORD: account.password,
    });
    expect(JSON.parse(printed.trim().split('\n').pop()!)).toMatchObject({ imageId: expect.any(String), url: expect.stringMatching(/^http/), output: 'out.webp' });
    const meta = await sharp(path.join(app, 'out.webp')).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'webp', width: 300, height: 200 });
  }, 180_000);
});
