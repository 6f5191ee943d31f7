import { createHash } from 'node:crypto';
import { Client } from 'pg';
import sharp from 'sharp';
import { S3StorageDriver } from '@pixmill/storage';
import {
  pollUntil,
  s3Env,
  startWorkerProcess,
  HttpClient,
  RunningApi,
  startApi,
  startS3rver,
  S3rverHandle,
  TEST_DATABASE_URL,
  UserFactory,
  WebhookReceiver,
} from '@pixmill/testing';
import { verifyWebhook } from '@pixmill/webhooks';

async function noiseJpeg(w: number, h: number): Promise<Buffer> {
  return sharp({ create: { width: w, height: h, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Sends the bytes to storage the way a browser would, using the presigned form. */
async function sendForm(upload: { url: string; fields: Record<string, string> }, bytes: Buffer, type: string): Promise<number> {
  const form = new FormData();
  for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
  form.append('file', new Blob([bytes], { type }));
  const res = await fetch(upload.url, { method: 'POST', body: form });
  return res.status;
}

describe('presigned direct uploads (e2e, S3)', () => {
  let s3: S3rverHandle;
  let api: RunningApi;
  let http: HttpClient;
  let driver: S3StorageDriver;
  let db: Client;

  beforeAll(async () => {
    s3 = await startS3rver();
    driver = new S3StorageDriver(s3.driverOptions);
    // The allowlist lets webhookUrl point at the test's own receiver on 127.0.0.1.
    api = await startApi({ ...s3Env(s3), WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    http = new HttpClient(api.baseUrl);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await api?.close();
    await s3?.stop();
    await db?.end();
  });

  const storageBytes = async (userId: string) =>
    Number((await db.query('SELECT storage_bytes FROM users WHERE id = $1', [userId])).rows[0].storage_bytes);

  it('upload → complete → image with the uploaded bytes', async () => {
    const u = await new UserFactory(http).create();
    const jpeg = await noiseJpeg(320, 200);
    const created = await u.http.post('/v1/uploads', { filename: 'dir/cat.jpg', contentType: 'image/jpeg', bytes: jpeg.length });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ uploadId: expect.any(String), method: 'POST', url: expect.stringContaining(s3.endpoint) });
    expect(created.body.fields.key).toMatch(new RegExp(`^users/${u.id}/images/[0-9a-f-]{36}/original$`));
    expect(await storageBytes(u.id)).toBe(jpeg.length); // reserved at creation

    expect(await sendForm(created.body, jpeg, 'image/jpeg')).toBeLessThan(300);
    const done = await u.http.post(`/v1/uploads/${created.body.uploadId}/complete`);
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({
      filename: 'cat.jpg',
      format: 'jpeg',
      width: 320,
      height: 200,
      bytes: jpeg.length,
      sha256: createHash('sha256').update(jpeg).digest('hex'),
    });
    const original = await fetch(done.body.urls.original);
    expect(Buffer.from(await original.arrayBuffer()).equals(jpeg)).toBe(true);
    expect(await storageBytes(u.id)).toBe(jpeg.length);

    // A second completion of the same upload is not possible.
    expect((await u.http.post(`/v1/uploads/${created.body.uploadId}/complete`)).status).toBe(404);
  });

  it('eager specs and a webhookUrl given when the upload starts apply when it completes', async () => {
    const receiver = await WebhookReceiver.start();
    const worker = await startWorkerProcess({ ...s3Env(s3), WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', PUBLIC_BASE_URL: api.baseUrl });
    try {
      const u = await new UserFactory(http).create();
      const jpeg = await noiseJpeg(320, 200);
      const url = receiver.url('direct-upload');
      const created = await u.http.post('/v1/uploads', {
        filename: 'cat.jpg',
        contentType: 'image/jpeg',
        bytes: jpeg.length,
        webhookUrl: url,
        eager: [{ operations: [{ op: 'resize', width: 64 }], output: { format: 'webp' } }],
      });
      expect(created.status).toBe(201);
      expect(await sendForm(created.body, jpeg, 'image/jpeg')).toBeLessThan(300);

      const done = await u.http.post(`/v1/uploads/${created.body.uploadId}/complete`);
      expect(done.status).toBe(201);
      expect(done.body.eagerJobs).toEqual([{ jobId: expect.any(String), error: null }]);
      const job = await u.http.get(`/v1/jobs/${done.body.eagerJobs[0].jobId}?wait=30`);
      expect(job.body).toMatchObject({ status: 'succeeded', imageId: done.body.id });
      const rendered = await fetch(job.body.result.url);
      const meta = await sharp(Buffer.from(await rendered.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 64, 40]);

      // The image's and the eager job's events reach the upload's webhookUrl, signed with the account secret.
      const { secret } = (await u.http.get('/v1/webhook-secret')).body;
      const events = (await receiver.waitFor(url, 2, 30_000)).map((m) => verifyWebhook(secret, m.headers, m.body) as { type: string; data: { id: string } });
      expect(events.map((e) => `${e.type} ${e.data.id}`).sort()).toEqual([`image.ready ${done.body.id}`, `job.succeeded ${job.body.id}`]);
    } finally {
      await worker.stop();
      await receiver.close();
    }
  });

  it('bad eager specs or a forbidden webhookUrl are refused when the upload starts, before anything is reserved', async () => {
    const u = await new UserFactory(http).create();
    const start = (extra: Record<string, unknown>) =>
      u.http.post('/v1/uploads', { filename: 'x.jpg', contentType: 'image/jpeg', bytes: 5000, ...extra });
    const fieldsOf = (res: { body: { errors: Array<{ field: string }> } }) => res.body.errors.map((e) => e.field);

    const privateHook = await start({ webhookUrl: 'http://10.0.0.1/hooks' });
    expect([privateHook.status, privateHook.body.code, fieldsOf(privateHook)]).toEqual([400, 'validation_failed', ['webhookUrl']]);
    const badSpec = await start({ eager: [{ operations: [{ op: 'resize', width: 64 }] }, { operations: [{ op: 'resize', width: -5 }] }] });
    expect([badSpec.status, fieldsOf(badSpec)]).toEqual([400, ['eager[1].operations[0].width']]);
    const notAList = await start({ eager: { operations: [] } });
    expect([notAList.status, fieldsOf(notAList)]).toEqual([400, ['eager']]);
    const tooMany = await start({ eager: Array.from({ length: 11 }, () => ({ operations: [] })) });
    expect([tooMany.status, fieldsOf(tooMany)]).toEqual([400, ['eager']]);

    expect(await storageBytes(u.id)).toBe(0);
    expect((await db.query('SELECT count(*)::int AS n FROM uploads WHERE user_id = $1', [u.id])).rows[0].n).toBe(0);
  });

  it('a non-image object is refused at complete, deleted, and its reservation released', async () => {
    const u = await new UserFactory(http).create();
    const text = Buffer.from('this is not an image at all, just text pretending to be one');
    const created = await u.http.post('/v1/uploads', { filename: 'x.jpg', contentType: 'image/jpeg', bytes: text.length });
    expect(created.status).toBe(201);
    await sendForm(created.body, text, 'image/jpeg');
    const done = await u.http.post(`/v1/uploads/${created.body.uploadId}/complete`);
    expect(done.status).toBe(415);
    expect(done.body.code).toBe('unsupported_media_type');
    expect(await driver.list(`users/${u.id}/`)).toEqual([]);
    expect(await storageBytes(u.id)).toBe(0);
    expect((await db.query('SELECT count(*)::int AS n FROM images WHERE user_id = $1', [u.id])).rows[0].n).toBe(0);
  });

  it('complete before anything was uploaded → 400; another user’s upload → 404', async () => {
    const a = await new UserFactory(http).create();
    const b = await new UserFactory(http).create();
    const created = await a.http.post('/v1/uploads', { filename: 'x.png', contentType: 'image/png', bytes: 1000 });
    const early = await a.http.post(`/v1/uploads/${created.body.uploadId}/complete`);
    expect(early.status).toBe(400);
    expect(early.body.code).toBe('validation_failed');
    const stolen = await b.http.post(`/v1/uploads/${created.body.uploadId}/complete`);
    expect(stolen.status).toBe(404);
    expect(stolen.body.code).toBe('not_found');
  });

  it('refuses a declared size over the limit, and a bad content type', async () => {
    const u = await new UserFactory(http).create();
    const big = await u.http.post('/v1/uploads', { filename: 'x.jpg', contentType: 'image/jpeg', bytes: 11 * 1024 * 1024 });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('file_too_large');
    const svg = await u.http.post('/v1/uploads', { filename: 'x.svg', contentType: 'image/svg+xml', bytes: 100 });
    expect(svg.status).toBe(400);
    expect(svg.body.errors.map((e: any) => e.field)).toEqual(['contentType']);
    expect(await storageBytes(u.id)).toBe(0);
  });

  it('an abandoned upload gives its reservation back once its URL has expired', async () => {
    const u = await new UserFactory(http).create();
    const created = await u.http.post('/v1/uploads', { filename: 'x.jpg', contentType: 'image/jpeg', bytes: 5000 });
    expect(await storageBytes(u.id)).toBe(5000);
    // As if the presigned URL had expired long ago.
    await db.query(`UPDATE uploads SET expires_at = now() - interval '1 hour' WHERE id = $1`, [created.body.uploadId]);
    const worker = await startWorkerProcess({ ...s3Env(s3), RECONCILE_INTERVAL_MS: '200' });
    try {
      await pollUntil(() => storageBytes(u.id), (n) => n === 0, 15_000);
      expect(await storageBytes(u.id)).toBe(0);
      expect((await u.http.post(`/v1/uploads/${created.body.uploadId}/complete`)).status).toBe(404);
    } finally {
      await worker.stop();
    }
  });

  it('with local storage, direct uploads are refused clearly', async () => {
    const local = await startApi();
    try {
      const u = await new UserFactory(new HttpClient(local.baseUrl)).create();
      const res = await u.http.post('/v1/uploads', { filename: 'x.jpg', contentType: 'image/jpeg', bytes: 100 });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('unsupported_operation');
    } finally {
      await local.close();
    }
  });
});
