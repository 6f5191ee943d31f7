import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import sharp from 'sharp';
import { Webhook } from 'standardwebhooks';
import {
  expectProblem,
  freePort,
  headersOf,
  HttpClient,
  jpeg,
  jpegWithGps,
  pollUntil,
  postImage,
  truncatedJpeg,
  RunningApi,
  startApi,
  startApiProcess,
  startWorkerProcess,
  TEST_DATABASE_URL,
  TestUser,
  uploadForm,
  UserFactory,
  WebhookReceiver,
  WorkerProcess,
} from '@pixmill/testing';
import { JobQueue, QueueName } from '@pixmill/queue';
import { verifyWebhook } from '@pixmill/webhooks';

/** Seconds, so retries happen within the test: first attempt at once, then 1 s apart. One storage directory for every process. */
const WEBHOOKS = {
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_RETRY_SCHEDULE: '0,1s,1s,1s',
  WEBHOOK_TIMEOUT_MS: '1000',
  STORAGE_LOCAL_DIR: mkdtempSync(path.join(tmpdir(), 'pixmill-webhooks-')),
};

describe('webhooks (e2e)', () => {
  let api: RunningApi;
  let http: HttpClient;
  /** The same API without WEBHOOK_ALLOWED_HOSTS: the SSRF guard as production runs it. */
  let guarded: RunningApi;
  let worker: WorkerProcess;
  let receiver: WebhookReceiver;
  let db: Client;
  /** The worker's private port: /metrics. */
  let workerPort: number;

  beforeAll(async () => {
    [api, guarded, receiver] = await Promise.all([
      startApi(WEBHOOKS),
      startApi({ STORAGE_LOCAL_DIR: WEBHOOKS.STORAGE_LOCAL_DIR }),
      WebhookReceiver.start(),
    ]);
    http = new HttpClient(api.baseUrl);
    // The worker signs the delivery URLs in webhook payloads, so it knows the API's public address.
    workerPort = await freePort();
    worker = await startWorkerProcess({
      ...WEBHOOKS,
      RECONCILE_INTERVAL_MS: '1000',
      PUBLIC_BASE_URL: api.baseUrl,
      WORKER_METRICS_PORT: String(workerPort),
    });
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await worker?.stop();
    await Promise.all([api?.close(), guarded?.close(), receiver?.close(), db?.end()]);
  });

  async function userWithImage(width = 160, height = 120): Promise<{ user: TestUser; imageId: string }> {
    const user = await new UserFactory(http).plan('pro').create();
    const res = await postImage(user.http, await jpeg(width, height));
    expect(res.status).toBe(201);
    return { user, imageId: res.body.id };
  }

  const deliveriesOf = async (user: TestUser, query: string) => (await user.http.get(`/v1/webhook-deliveries?${query}`)).body.items;

  /** The worker's job lines (one per run of a job) matching `fields`, once `count` of them are there. */
  const workerLines = (fields: Record<string, unknown>, count = 1) =>
    pollUntil(
      async () => worker.logLines().filter((line) => Object.entries(fields).every(([k, v]) => line[k] === v)),
      (lines) => lines.length >= count,
    );

  /** The worker's /metrics lines of one metric. */
  const workerMetric = async (name: string) =>
    (await (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).text()).split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

  it('a transformation with webhookUrl: exactly one job.succeeded, verified by the standardwebhooks package, whose result URL serves the image', async () => {
    const { user, imageId } = await userWithImage();
    const { secret } = (await user.http.get('/v1/webhook-secret')).body;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const url = receiver.url('succeeded');

    const submitted = await user.http.post(`/v1/images/${imageId}/transformations`, {
      operations: [{ op: 'resize', width: 80 }],
      output: { format: 'webp' },
      webhookUrl: url,
    });
    expect(submitted.status).toBe(202);

    const [msg] = await receiver.waitFor(url, 1);
    expect(msg).toBeDefined();
    const headers = headersOf(msg.headers);
    expect(headers['webhook-id']).toMatch(/^msg_/);
    expect(headers['content-type']).toBe('application/json');
    const event = new Webhook(secret).verify(msg.body, headers) as any;
    expect(verifyWebhook(secret, msg.headers, msg.body)).toEqual(event);
    expect(event.type).toBe('job.succeeded');
    expect(event.data.id).toBe(submitted.body.id);
    expect(event.data.status).toBe('succeeded');
    expect(event.data).toEqual((await user.http.get(`/v1/jobs/${submitted.body.id}`)).body);

    const image = await fetch(event.data.result.url);
    expect(image.status).toBe(200);
    const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    expect([meta.format, meta.width]).toEqual(['webp', 80]);

    // Exactly one: nothing more arrives, and the delivery log shows one successful attempt.
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.requestsTo(url)).toHaveLength(1);
    const [delivery] = await deliveriesOf(user, `jobId=${submitted.body.id}`);
    expect(delivery).toMatchObject({ status: 'succeeded', type: 'job.succeeded', target: 'url', messageId: headers['webhook-id'] });
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ statusCode: 200, error: null });
  });

  it('the x-request-id of an upload and of a submission follows the work: worker log lines, webhook requests, the delivery log', async () => {
    const user = await new UserFactory(http).plan('pro').create();
    const url = receiver.url('traced');
    const uploadRequest = `upload-${randomUUID()}`;
    const uploaded = await user.http.request('POST', '/v1/images', {
      body: uploadForm(await jpeg(160, 120), 'traced.jpg', { fields: { webhookUrl: url } }),
      headers: { 'x-request-id': uploadRequest },
    });
    expect(uploaded.status).toBe(201);
    expect(uploaded.headers.get('x-request-id')).toBe(uploadRequest);
    const imageId = uploaded.body.id;
    const submitRequest = `submit-${randomUUID()}`;
    const submitted = await user.http.post(
      `/v1/images/${imageId}/transformations`,
      { operations: [{ op: 'resize', width: 80 }, { op: 'watermark', text: 'traced' }, { op: 'resize', width: 60 }], output: { format: 'webp' }, webhookUrl: url },
      { 'x-request-id': submitRequest },
    );
    expect(submitted.status).toBe(202);

    // The receiver sees each message with the id of the request that caused it.
    const messages = await receiver.waitFor(url, 2);
    const byType = Object.fromEntries(messages.map((m) => [JSON.parse(m.body).type, m.headers]));
    expect(byType['image.ready']['x-request-id']).toBe(uploadRequest);
    expect(byType['job.succeeded']['x-request-id']).toBe(submitRequest);

    // The worker logs one line per job run and per delivery attempt, each naming the request.
    const [thumbnail] = await workerLines({ job: 'thumbnail', imageId });
    expect(thumbnail).toMatchObject({
      msg: 'thumbnail succeeded',
      level: 30,
      app: 'pixmill-worker',
      requestId: uploadRequest,
      userId: user.id,
      outcome: 'succeeded',
      attempts: 1,
      durationMs: expect.any(Number),
    });
    const [transform] = await workerLines({ job: 'transform', jobId: submitted.body.id });
    expect(transform).toMatchObject({
      msg: 'transform succeeded',
      requestId: submitRequest,
      imageId,
      userId: user.id,
      ops: 'resize+watermark',
      format: 'webp',
      outcome: 'succeeded',
      attempts: 1,
      durationMs: expect.any(Number),
    });
    const deliveries = await pollUntil(
      () => user.http.get('/v1/webhook-deliveries').then((r) => r.body.items),
      (items: any[]) => items.length === 2 && items.every((d) => d.status === 'succeeded'),
    );
    for (const delivery of deliveries) {
      const requestId = delivery.type === 'image.ready' ? uploadRequest : submitRequest;
      expect(delivery.requestId).toBe(requestId);
      const [line] = await workerLines({ job: 'webhook-delivery', deliveryId: delivery.id });
      expect(line).toMatchObject({
        msg: 'webhook-delivery succeeded',
        requestId,
        messageId: delivery.messageId,
        statusCode: 200,
        durationMs: delivery.attempts[0].durationMs,
        outcome: 'succeeded',
        attempts: 1,
      });
    }

    // Job durations are labelled by the spec's operations (in order, each once) and the output format.
    expect(await workerMetric('pixmill_job_duration_seconds_count')).toContainEqual(
      expect.stringMatching(/^pixmill_job_duration_seconds_count\{job="transform",outcome="completed",ops="resize\+watermark",format="webp"\} [1-9]/),
    );
  });

  it('a cache hit is reported too (the job is created succeeded); an idempotent replay sends nothing more', async () => {
    const { user, imageId } = await userWithImage();
    const spec = { operations: [{ op: 'resize', width: 50 }] };
    const first = await user.http.post(`/v1/images/${imageId}/transformations`, spec);
    await user.http.get(`/v1/jobs/${first.body.id}?wait=20`);
    const url = receiver.url('cached');
    const hit = await user.http.post(`/v1/images/${imageId}/transformations`, { ...spec, webhookUrl: url }, { 'Idempotency-Key': 'cached-1' });
    expect(hit.status).toBe(200);
    expect(hit.body.cached).toBe(true);
    const [msg] = await receiver.waitFor(url, 1);
    expect(JSON.parse(msg.body)).toMatchObject({ type: 'job.succeeded', data: { id: hit.body.id, cached: true } });
    const replay = await user.http.post(`/v1/images/${imageId}/transformations`, { ...spec, webhookUrl: url }, { 'Idempotency-Key': 'cached-1' });
    expect(replay.body.id).toBe(hit.body.id);
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.requestsTo(url)).toHaveLength(1);
  });

  it('requests that join a render in flight each give their webhookUrl, and each is told once', async () => {
    const { user, imageId } = await userWithImage();
    const { secret } = (await user.http.get('/v1/webhook-secret')).body;
    const spec = { operations: [{ op: 'resize', width: 60 }], output: { format: 'png' } };
    const [first, second] = [receiver.url('joined-first'), receiver.url('joined-second')];
    const submit = (webhookUrl?: string) =>
      user.http.post(`/v1/images/${imageId}/transformations`, webhookUrl ? { ...spec, webhookUrl } : spec);
    // Held in the queue, so the later requests find the render in flight.
    const transform = api.app.get(JobQueue).queue(QueueName.Transform);
    await transform.pause();
    const more = Array.from({ length: 8 }, (_, i) => receiver.url(`joined-more-${i}`));
    let answers, full;
    try {
      answers = [await submit(first), await submit(second), await submit(first), await submit()];
      for (const url of more) answers.push(await submit(url)); // ten distinct URLs in all: the most one render takes
      full = await submit(receiver.url('joined-one-too-many'));
    } finally {
      await transform.resume();
    }
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(202));
    expectProblem(full, 400, 'validation_failed');
    expect(full.body.errors.map((e: { field: string }) => e.field)).toEqual(['webhookUrl']);
    const jobId = answers[0].body.id;
    expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([jobId]));

    for (const url of [first, second]) {
      const [msg] = await receiver.waitFor(url, 1);
      expect(verifyWebhook(secret, msg.headers, msg.body)).toMatchObject({ type: 'job.succeeded', data: { id: jobId, status: 'succeeded' } });
    }
    // One message, one delivery per URL; the URL given twice is told once.
    await new Promise((r) => setTimeout(r, 1500));
    expect([receiver.requestsTo(first).length, receiver.requestsTo(second).length]).toEqual([1, 1]);
    const deliveries = await deliveriesOf(user, `jobId=${jobId}`);
    expect(deliveries.map((d: { url: string }) => d.url).sort()).toEqual([first, second, ...more].sort());
    expect(new Set(deliveries.map((d: { messageId: string }) => d.messageId)).size).toBe(1);
  });

  it('a receiver that answers 500 twice then 200: three attempts recorded, one success, the same webhook-id', async () => {
    const { user, imageId } = await userWithImage();
    const url = receiver.url('flaky', [500, 500, 200]);
    const job = await user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'rotate', angle: 90 }], webhookUrl: url });
    expect(job.status).toBe(202);

    const got = await receiver.waitFor(url, 3);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const delivery = (
      await pollUntil(
        () => deliveriesOf(user, `jobId=${job.body.id}`),
        (items) => items[0]?.status === 'succeeded',
      )
    )[0];
    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts.map((a: any) => a.statusCode)).toEqual([500, 500, 200]);
    expect(delivery.attempts[0].responseSnippet).toBe('answer 500');
    expect(delivery.attempts[0].error).toBe('HTTP 500');

    // One worker line per attempt; the receiver's 500s are webhook outcomes, not job failures.
    const lines = await workerLines({ job: 'webhook-delivery', deliveryId: delivery.id }, 3);
    expect(lines.map((l) => [l.outcome, l.statusCode, l.attempts])).toEqual([
      ['retrying', 500, 1],
      ['retrying', 500, 2],
      ['succeeded', 200, 3],
    ]);
    expect(lines[0]).toMatchObject({ level: 40, error: 'HTTP 500', requestId: job.headers.get('x-request-id') });
    const attempts = await workerMetric('pixmill_webhook_attempts_total');
    expect(attempts).toContainEqual(expect.stringMatching(/^pixmill_webhook_attempts_total\{outcome="failed"\} ([2-9]|\d\d+)$/));
    expect(await workerMetric('pixmill_job_failures_total')).not.toContainEqual(expect.stringContaining('job="webhook-delivery"'));
    expect(await workerMetric('pixmill_job_duration_seconds_count')).not.toContainEqual(
      expect.stringContaining('job="webhook-delivery",outcome="failed"'),
    );
  });

  it('a receiver that times out is retried, with the same webhook-id', async () => {
    const { user, imageId } = await userWithImage();
    const url = receiver.url('slow', ['hang', 200]);
    const job = await user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'flip' }], webhookUrl: url });
    const got = await receiver.waitFor(url, 2);
    expect(got).toHaveLength(2);
    expect(got[0].headers['webhook-id']).toBe(got[1].headers['webhook-id']);
    const [delivery] = await pollUntil(
      () => deliveriesOf(user, `jobId=${job.body.id}`),
      (items) => items[0]?.status === 'succeeded',
    );
    expect(delivery.attempts[0]).toMatchObject({ statusCode: null });
    expect(delivery.attempts[0].error).toMatch(/timeout/);
    expect(delivery.attempts[1]).toMatchObject({ statusCode: 200, error: null });
  });

  it('a job that fails sends job.failed with its error', async () => {
    const { user, imageId } = await userWithImage(100, 100);
    // The stored original goes bad after the upload was validated (local storage: a plain file).
    await writeFile(path.join(WEBHOOKS.STORAGE_LOCAL_DIR, 'users', user.id, 'images', imageId, 'original'), await truncatedJpeg());
    const url = receiver.url('failed');
    const job = await user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'grayscale' }], webhookUrl: url });
    expect(job.status).toBe(202);
    const [msg] = await receiver.waitFor(url, 1);
    const { secret } = (await user.http.get('/v1/webhook-secret')).body;
    const event = new Webhook(secret).verify(msg.body, headersOf(msg.headers)) as any;
    expect(event.type).toBe('job.failed');
    expect(event.data).toMatchObject({ id: job.body.id, status: 'failed', error: { code: 'image_corrupt' } });

    // The worker's line names the failure's code; the failure is counted as the transform job's.
    const [line] = await workerLines({ job: 'transform', jobId: job.body.id });
    expect(line).toMatchObject({ outcome: 'failed', errorCode: 'image_corrupt', ops: 'grayscale', format: 'jpeg', attempts: 1, level: 40 });
    expect(await workerMetric('pixmill_job_failures_total')).toContainEqual(expect.stringMatching(/^pixmill_job_failures_total\{job="transform"\} [1-9]/));
  });

  it('endpoints: own secret, event filter, 410 disables the endpoint', async () => {
    const { user, imageId } = await userWithImage();
    const liveUrl = receiver.url('live');
    const goneUrl = receiver.url('gone', [410]);
    const live = await user.http.post('/v1/webhook-endpoints', { url: liveUrl, events: ['job.succeeded'] });
    expect(live.status).toBe(201);
    expect(live.body.secret).toMatch(/^whsec_/);
    const gone = await user.http.post('/v1/webhook-endpoints', { url: goneUrl, events: ['job.succeeded', 'job.failed'] });
    const imagesOnly = await user.http.post('/v1/webhook-endpoints', { url: receiver.url('images-only'), events: ['image.deleted'] });
    expect(imagesOnly.status).toBe(201);
    expect((await user.http.get('/v1/webhook-endpoints')).body.items).toHaveLength(3);

    const job = await user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'grayscale' }] });
    const [msg] = await receiver.waitFor(liveUrl, 1);
    expect((new Webhook(live.body.secret).verify(msg.body, headersOf(msg.headers)) as any).data.id).toBe(job.body.id);
    await receiver.waitFor(goneUrl, 1);

    const disabled = await pollUntil(
      () => user.http.get(`/v1/webhook-endpoints/${gone.body.id}`),
      (r) => r.body.enabled === false,
    );
    expect(disabled.body).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/410/) });
    const [goneDelivery] = await deliveriesOf(user, `endpointId=${gone.body.id}`);
    expect(goneDelivery).toMatchObject({ status: 'failed' });
    expect(goneDelivery.attempts).toHaveLength(1);
    expect((await user.http.post(`/v1/webhook-deliveries/${goneDelivery.id}/redeliver`)).status).toBe(409);

    // The disabled endpoint gets nothing more; the image.deleted-only endpoint got no job events.
    const second = await user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'sepia' }] });
    await receiver.waitFor(liveUrl, 2);
    expect(receiver.requestsTo(goneUrl)).toHaveLength(1);
    expect(receiver.requestsTo(imagesOnly.body.url)).toHaveLength(0);
    expect(second.status).toBe(202);

    // PATCH turns it back on, keeping its secret; the next event reaches it again (and its 410 turns it off again).
    const other = await new UserFactory(http).create();
    expectProblem(await other.http.request('PATCH', `/v1/webhook-endpoints/${gone.body.id}`, { json: { enabled: true } }), 404, 'not_found');
    expectProblem(await user.http.request('PATCH', `/v1/webhook-endpoints/${gone.body.id}`, { json: { url: 'ftp://example.com/' } }), 400, 'validation_failed');
    const revived = await user.http.request('PATCH', `/v1/webhook-endpoints/${gone.body.id}`, { json: { enabled: true, events: ['job.succeeded'] } });
    expect(revived.status).toBe(200);
    expect(revived.body).toMatchObject({ enabled: true, disabledReason: null, events: ['job.succeeded'], secret: gone.body.secret, url: goneUrl });
    await user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'grayscale' }] });
    await receiver.waitFor(goneUrl, 2);

    // A new url takes the deliveries still to be made: the retry after a 500 goes to the new address.
    const failing = receiver.url('moving-from', [500]);
    const movedTo = receiver.url('moving-to');
    const moving = await user.http.post('/v1/webhook-endpoints', { url: failing, events: ['job.succeeded'] });
    await user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'sepia' }, { op: 'flip' }] });
    await receiver.waitFor(failing, 1);
    expect((await user.http.request('PATCH', `/v1/webhook-endpoints/${moving.body.id}`, { json: { url: movedTo } })).status).toBe(200);
    const [arrived] = await receiver.waitFor(movedTo, 1);
    expect(verifyWebhook(moving.body.secret, arrived.headers, arrived.body)).toMatchObject({ type: 'job.succeeded' });

    expect((await user.http.delete(`/v1/webhook-endpoints/${live.body.id}`)).status).toBe(204);
    expect((await user.http.get(`/v1/webhook-endpoints/${live.body.id}`)).status).toBe(404);
  });

  it('a rotation sends two signatures for 24 h, each verifying on its own', async () => {
    const { user, imageId } = await userWithImage();
    const before = (await user.http.get('/v1/webhook-secret')).body.secret;
    const rotated = await user.http.post('/v1/webhook-secret/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body.previousSecret).toBe(before);
    expect(rotated.body.secret).not.toBe(before);
    const hours = (Date.parse(rotated.body.previousExpiresAt) - Date.now()) / 3600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);

    const url = receiver.url('rotated');
    await user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'mirror' }], webhookUrl: url });
    const [msg] = await receiver.waitFor(url, 1);
    const signatures = String(msg.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    for (const secret of [before, rotated.body.secret]) {
      expect((new Webhook(secret).verify(msg.body, headersOf(msg.headers)) as any).type).toBe('job.succeeded');
    }
  });

  it('an upload with webhookUrl gets image.ready without the GPS position, and eager jobs report there too', async () => {
    const user = await new UserFactory(http).create();
    const url = receiver.url('upload');
    const res = await user.http.request('POST', '/v1/images', {
      body: uploadForm(await jpegWithGps(), 'gps.jpg', {
        fields: { webhookUrl: url, eager: JSON.stringify([{ operations: [{ op: 'resize', width: 40 }] }]) },
      }),
    });
    expect(res.status).toBe(201);
    const messages = await receiver.waitFor(url, 2);
    const { secret } = (await user.http.get('/v1/webhook-secret')).body;
    const events = messages.map((m) => new Webhook(secret).verify(m.body, headersOf(m.headers)) as any);
    const ready = events.find((e) => e.type === 'image.ready');
    expect(ready.data).toMatchObject({ id: res.body.id, urls: { thumbnail: expect.any(String) } });
    // The placeholders are computed with the thumbnail, so image.ready carries them, as GET /v1/images/{id} then does.
    expect(ready.data.placeholder).toEqual({
      thumbhash: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
      blurhash: expect.stringMatching(/^.{28}$/),
      dominantColor: expect.stringMatching(/^#[0-9a-f]{6}$/),
    });
    expect((await user.http.get(`/v1/images/${res.body.id}`)).body.placeholder).toEqual(ready.data.placeholder);
    expect(ready.data.exif?.gps).toBeUndefined();
    expect(res.body.exif.gps).toBeDefined(); // the owner's own API answer keeps it
    expect(events.find((e) => e.type === 'job.succeeded')?.data.id).toBe(res.body.eagerJobs[0].jobId);
  });

  it('GET /transform with webhookUrl: told of the render, and of a cache hit too (which then makes a job)', async () => {
    const { user, imageId } = await userWithImage();
    const url = receiver.url('on-the-fly');
    const query = `rotate=180&format=png&webhookUrl=${encodeURIComponent(url)}`;
    const first = await user.http.get(`/v1/images/${imageId}/transform?${query}&wait=25`);
    expect(first.status).toBe(302);
    const [rendered] = await receiver.waitFor(url, 1);
    const renderedJob = JSON.parse(rendered.body).data;
    expect(renderedJob).toMatchObject({ status: 'succeeded', cached: false });

    const again = await user.http.get(`/v1/images/${imageId}/transform?${query}`);
    expect(again.status).toBe(302);
    const [, hit] = await receiver.waitFor(url, 2);
    expect(JSON.parse(hit.body)).toMatchObject({ type: 'job.succeeded', data: { cached: true, result: { derivativeId: renderedJob.result.derivativeId } } });
  });

  it('redeliver sends the same message (same webhook-id) again; other users get 404', async () => {
    const { user, imageId } = await userWithImage();
    const url = receiver.url('redeliver');
    const job = await user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'blur', sigma: 2 }], webhookUrl: url });
    const [first] = await receiver.waitFor(url, 1);
    const [delivery] = await pollUntil(
      () => deliveriesOf(user, `jobId=${job.body.id}`),
      (items) => items[0]?.status === 'succeeded',
    );

    const stranger = await new UserFactory(http).create();
    expectProblem(await stranger.http.post(`/v1/webhook-deliveries/${delivery.id}/redeliver`), 404, 'not_found');
    expect(await deliveriesOf(stranger, `jobId=${job.body.id}`)).toEqual([]);

    const again = await user.http.post(`/v1/webhook-deliveries/${delivery.id}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ messageId: delivery.messageId, status: 'pending' });
    const both = await receiver.waitFor(url, 2);
    expect(both[1].headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(both[1].body).toBe(first.body);
    // Both carry the id of the request that submitted the job, as the delivery log shows.
    expect(first.headers['x-request-id']).toBe(job.headers.get('x-request-id'));
    expect(both[1].headers['x-request-id']).toBe(first.headers['x-request-id']);
    expect(again.body.requestId).toBe(first.headers['x-request-id']);
  });

  it.each([
    'http://169.254.169.254/latest/meta-data',
    'http://10.0.0.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://localhost:3000/',
    'http://[fd00::1]/',
    'http://100.64.0.1/',
    'ftp://example.com/',
  ])('webhookUrl %s is refused with 400, for jobs, uploads and endpoints', async (bad) => {
    const client = new HttpClient(guarded.baseUrl);
    const user = await new UserFactory(client).create();
    const img = await postImage(user.http, await jpeg(64, 48));
    const before = await db.query('SELECT count(*)::int AS n FROM jobs WHERE user_id = $1', [user.id]);

    const job = await user.http.post(`/v1/images/${img.body.id}/transformations`, { operations: [{ op: 'grayscale' }], webhookUrl: bad });
    expectProblem(job, 400, 'validation_failed');
    expect(job.body.errors[0].field).toBe('webhookUrl');
    const endpoint = await user.http.post('/v1/webhook-endpoints', { url: bad, events: ['job.succeeded'] });
    expectProblem(endpoint, 400, 'validation_failed');
    expect(endpoint.body.errors[0].field).toBe('url');
    const upload = await user.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(64, 48), 'a.jpg', { fields: { webhookUrl: bad } }) });
    expectProblem(upload, 400, 'validation_failed');
    const onTheFly = await user.http.get(`/v1/images/${img.body.id}/transform?grayscale=true&wait=0&webhookUrl=${encodeURIComponent(bad)}`);
    expectProblem(onTheFly, 400, 'validation_failed');
    expect(onTheFly.body.errors[0].field).toBe('webhookUrl');

    // Nothing was left behind by the refused requests.
    const after = await db.query('SELECT count(*)::int AS n FROM jobs WHERE user_id = $1', [user.id]);
    expect(after.rows[0].n).toBe(before.rows[0].n);
    expect((await user.http.get('/v1/images')).body.items).toHaveLength(1);
    expect((await user.http.get('/v1/webhook-endpoints')).body.items).toHaveLength(0);
  });

  it('the outbox delivers after the API dies between its commit and the enqueue', async () => {
    const { user, imageId } = await userWithImage();
    const url = receiver.url('outbox');
    const endpoint = await user.http.post('/v1/webhook-endpoints', { url, events: ['image.deleted'] });
    expect(endpoint.status).toBe(201);

    const doomed = await startApiProcess({ ...WEBHOOKS, FAULT_CRASH_AFTER_OUTBOX_COMMIT: 'true' });
    try {
      // The connection dies with the process: no answer at all.
      await expect(
        fetch(`${doomed.baseUrl}/v1/images/${imageId}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${user.accessToken}`, 'x-request-id': 'delete-before-crash' },
        }),
      ).rejects.toThrow();
      expect(await doomed.exited).toBe('SIGKILL');
    } finally {
      await doomed.kill();
    }

    // Committed: the image is gone and its message is waiting, never enqueued.
    expect((await user.http.get(`/v1/images/${imageId}`)).status).toBe(404);
    const pending = await db.query(`SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = $1`, [endpoint.body.id]);
    expect(pending.rows).toEqual([{ status: 'pending', attempts: 0 }]);

    // The worker's reconciler finds it overdue and enqueues it.
    const [msg] = await receiver.waitFor(url, 1, 40_000);
    expect(msg).toBeDefined();
    const event = new Webhook(endpoint.body.secret).verify(msg.body, headersOf(msg.headers)) as any;
    expect(event).toMatchObject({ type: 'image.deleted', data: { id: imageId, urls: { original: null, thumbnail: null } } });
    // The queue job the reconciler made carries no request id; the message row does.
    expect(msg.headers['x-request-id']).toBe('delete-before-crash');
  }, 90_000);

  describe("a user whose receiver hangs, and everyone else's webhooks", () => {
    /**
     * An attempt here waits a minute for an answer, so whatever arrives meanwhile was not
     * held up by one. One render at a time; four deliveries at once; two per user.
     */
    const PATIENT = { WEBHOOK_TIMEOUT_MS: '60000', WORKER_CONCURRENCY: '1', WEBHOOK_CONCURRENCY: '4', WEBHOOK_MAX_IN_FLIGHT_PER_USER: '2' };
    let patient: WorkerProcess;
    let hangingUser: TestUser | undefined;

    beforeAll(async () => {
      // Only this worker may send: the suite's own would time the hanging attempts out after 1 s.
      await worker.stop();
      patient = await startWorkerProcess({ ...WEBHOOKS, ...PATIENT, RECONCILE_INTERVAL_MS: '1000', PUBLIC_BASE_URL: api.baseUrl });
    });
    afterAll(async () => {
      // Nothing more for the hanging endpoints, then the attempts in flight end at once.
      for (const e of hangingUser ? (await hangingUser.http.get('/v1/webhook-endpoints')).body.items : []) {
        await hangingUser!.http.delete(`/v1/webhook-endpoints/${e.id}`);
      }
      receiver.releaseHanging();
      await patient?.stop();
    });

    it("another user's job.succeeded goes out while the first user's deliveries hang, and those hold only their user's share of the slots", async () => {
      const a = await userWithImage();
      hangingUser = a.user;
      const hanging: string[] = [];
      for (let i = 0; i < 6; i++) {
        const url = receiver.url(`hang-${i}`, ['hang']);
        expect((await a.user.http.post('/v1/webhook-endpoints', { url, events: ['job.succeeded'] })).status).toBe(201);
        hanging.push(url);
      }
      // One job, six deliveries (one per endpoint), more than the worker's four slots.
      expect((await a.user.http.post(`/v1/images/${a.imageId}/transformations`, { operations: [{ op: 'grayscale' }] })).status).toBe(202);
      const sentToA = () => hanging.reduce((n, url) => n + receiver.requestsTo(url).length, 0);
      // Two go out (A's cap) and hang; the other four wait in the queue.
      expect(await pollUntil(async () => sentToA(), (n) => n >= 2, 30_000)).toBe(2);

      const b = await userWithImage();
      const url = receiver.url('not-held-up');
      const job = await b.user.http.post(`/v1/images/${b.imageId}/transformations`, { operations: [{ op: 'flip' }], webhookUrl: url });
      expect(job.status).toBe(202);
      const [msg] = await receiver.waitFor(url, 1, 40_000);
      expect(msg).toBeDefined();
      expect(JSON.parse(msg.body)).toMatchObject({ type: 'job.succeeded', data: { id: job.body.id } });

      // B was told while every one of A's first attempts was still waiting for its answer:
      // none has been recorded, and A still has only two requests out.
      const rows = await db.query('SELECT status, attempts FROM webhook_deliveries WHERE user_id = $1', [a.user.id]);
      expect(rows.rows).toEqual(Array(6).fill({ status: 'pending', attempts: 0 }));
      expect(sentToA()).toBe(2);
    }, 90_000);
  });
});
