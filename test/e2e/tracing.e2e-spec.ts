import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ApiProcess,
  HttpClient,
  jpeg,
  OtlpReceiver,
  ReceivedSpan,
  startApiProcess,
  startWorkerProcess,
  uploadForm,
  UserFactory,
  WebhookReceiver,
  WorkerProcess,
} from '@pixmill/testing';

/** OTLP's SpanKind numbers in a JSON export. */
const SERVER = 2;
const CONSUMER = 5;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;
/** The database a client span speaks to, under the attribute's older or its stable name. */
const dbSystem = (s: ReceivedSpan) => s.attributes['db.system'] ?? s.attributes['db.system.name'];

/**
 * One upload with an eager render, traced across the API and a worker into an OTLP/HTTP
 * receiver in this process. The API runs as a child process here (startApiProcess), not in
 * jest's process like startApi: the instrumentations patch http, fastify, pg and ioredis as
 * Node's module loader loads them, before the app's first import, which is what main.ts does
 * and what jest's own module registry would bypass.
 */
describe('traces (e2e)', () => {
  let otlp: OtlpReceiver;
  let hooks: WebhookReceiver;
  let api: ApiProcess;
  let worker: WorkerProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    otlp = await OtlpReceiver.start();
    hooks = await WebhookReceiver.start();
    env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
      // Export every 100 ms instead of every 5 s, so the spans are here soon after the work.
      OTEL_BSP_SCHEDULE_DELAY: '100',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      STORAGE_LOCAL_DIR: mkdtempSync(path.join(tmpdir(), 'pixmill-traces-')),
    };
    // Generous start bounds: both compile their TypeScript on start, on a shared machine.
    [api, worker] = await Promise.all([startApiProcess(env, 150_000), startWorkerProcess(env, 150_000)]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([worker?.stop(), api?.kill()]);
    await Promise.all([otlp?.close(), hooks?.close()]);
  });

  it('one upload with an eager render is one trace: HTTP request, job rows, queue, render, storage put, webhook', async () => {
    const user = await new UserFactory(new HttpClient(api.baseUrl)).create();
    const webhookUrl = hooks.url('traced');
    const spec = { operations: [{ op: 'resize', width: 64 }, { op: 'grayscale' }], output: { format: 'webp' } };
    const upload = await user.http.request('POST', '/v1/images', {
      body: uploadForm(await jpeg(320, 240), 'photo.jpg', { fields: { webhookUrl, eager: JSON.stringify([spec]) } }),
      headers: { 'x-request-id': 'traced-upload' },
    });
    expect(upload.status).toBe(201);
    const jobId: string = upload.body.eagerJobs[0].jobId;
    const job = await user.http.get(`/v1/jobs/${jobId}?wait=30`);
    expect(job.body).toMatchObject({ status: 'succeeded', result: { format: 'webp', width: 64 } });

    // The job's webhook, sent with the trace context of its delivery.
    const messages = await hooks.waitFor(webhookUrl, 2);
    const succeeded = messages.find((m) => JSON.parse(m.body).type === 'job.succeeded');
    expect(succeeded).toBeDefined();
    const [, traceId] = String(succeeded!.headers.traceparent).match(TRACEPARENT) ?? [];
    expect(traceId).toBeDefined();

    // The trace is complete once the delivery's span is in and every span's parent has arrived
    // too (a parent ends, and is exported, after its children; a batch goes out every 100 ms).
    const complete = (spans: ReceivedSpan[]) => {
      const t = spans.filter((s) => s.traceId === traceId);
      const ids = new Set(t.map((s) => s.spanId));
      const delivered = t.some((s) => s.name === 'webhook deliver' && s.attributes['pixmill.webhook.message_id'] === succeeded!.headers['webhook-id']);
      return delivered && t.every((s) => s.parentSpanId === '' || ids.has(s.parentSpanId)) ? t : undefined;
    };
    const trace = (await otlp.waitFor(complete)) || otlp.trace(traceId);
    process.stdout.write(`trace ${traceId} of one upload with an eager render:\n${otlp.render(traceId)}\n`);
    const named = (name: string, service?: string) => trace.filter((s) => s.name === name && (!service || s.service === service));

    // The HTTP request, in the API: the server span is the root of the trace.
    const [server] = trace.filter((s) => s.service === 'pixmill-api' && s.kind === SERVER);
    expect(server).toBeDefined();
    expect(server.parentSpanId).toBe('');
    expect(server.attributes['http.method'] ?? server.attributes['http.request.method']).toBe('POST');
    expect(server.attributes['http.route']).toBe('/v1/images');

    // The job rows, written by the API in the request, and read and finished by the worker.
    const pg = trace.filter((s) => dbSystem(s) === 'postgresql');
    expect(pg.some((s) => s.service === 'pixmill-api')).toBe(true);
    expect(pg.some((s) => s.service === 'pixmill-worker')).toBe(true);

    // The queue: the API enqueues the render (BullMQ's commands are ioredis spans under it).
    const [enqueue] = named('enqueue transform', 'pixmill-api');
    expect(enqueue).toBeDefined();
    expect(trace.some((s) => s.parentSpanId === enqueue.spanId && dbSystem(s) === 'redis')).toBe(true);

    // The worker's run of the job is the child of that enqueue, across processes.
    const [run] = named('process transform', 'pixmill-worker');
    expect(run).toMatchObject({ kind: CONSUMER, parentSpanId: enqueue.spanId });
    expect(run.attributes).toMatchObject({ 'messaging.message.id': jobId, 'pixmill.job.outcome': 'succeeded', 'pixmill.request_id': 'traced-upload' });

    const [render] = named('render', 'pixmill-worker');
    expect(render.parentSpanId).toBe(run.spanId);
    expect(render.attributes).toMatchObject({
      'pixmill.render.ops': 'resize+grayscale',
      'pixmill.render.format': 'webp',
      'pixmill.render.bytes': job.body.result.bytes,
      'pixmill.render.pixels': 64 * 48,
    });

    const [put] = named('storage put', 'pixmill-worker');
    expect(put.parentSpanId).toBe(run.spanId);
    expect(put.attributes).toMatchObject({ 'pixmill.storage.driver': 'local', 'pixmill.storage.bytes': job.body.result.bytes });

    // The webhook: enqueued by the render's run, delivered by a run of its own, in the same trace.
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const deliver = named('webhook deliver', 'pixmill-worker').find((s) => s.attributes['pixmill.webhook.message_id'] === succeeded!.headers['webhook-id'])!;
    expect(deliver.attributes).toMatchObject({ 'http.response.status_code': 200, 'pixmill.webhook.target': 'url' });
    const hookRun = byId.get(deliver.parentSpanId)!;
    expect(hookRun).toMatchObject({ name: 'process webhook-delivery', kind: CONSUMER });
    const enqueueHook = byId.get(hookRun.parentSpanId)!;
    expect(enqueueHook).toMatchObject({ name: 'enqueue webhook-delivery', parentSpanId: run.spanId });
    // The receiver was told the context of the delivery's request: that span, or the HTTP client span under it.
    const [, , sentSpanId] = String(succeeded!.headers.traceparent).match(TRACEPARENT)!;
    expect([deliver.spanId, ...trace.filter((s) => s.parentSpanId === deliver.spanId).map((s) => s.spanId)]).toContain(sentSpanId);

    // The log lines of the work carry the trace id: the API's request line and the worker's run line.
    const apiLines = api
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(apiLines.find((l) => l.msg === 'request completed' && l.requestId === 'traced-upload')).toMatchObject({ traceId });
    expect(worker.logLines().find((l) => l.msg === 'transform succeeded' && l.jobId === jobId)).toMatchObject({ traceId, spanId: run.spanId });
  }, 90_000);

  it('single-use secrets in a URL never reach a span: the verification token, the dashboard ticket', async () => {
    const traceId = randomBytes(16).toString('hex');
    const secret = `tok-${randomBytes(8).toString('hex')}`;
    const headers = { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, accept: 'text/html' };
    await fetch(`${api.baseUrl}/account/verify-email?token=${secret}&lang=en`, { headers });
    await fetch(`${api.baseUrl}/admin/queues/login?ticket=${secret}`, { headers });
    const spans =
      (await otlp.waitFor((all) => {
        const t = all.filter((s) => s.traceId === traceId && s.kind === SERVER);
        return t.length >= 2 ? all.filter((s) => s.traceId === traceId) : undefined;
      })) || [];
    expect(spans.filter((s) => s.kind === SERVER)).toHaveLength(2);
    expect(JSON.stringify(spans, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(secret);
    // What is kept: the path, and the query with the secret's value redacted.
    expect(spans.some((s) => s.attributes['url.path'] === '/account/verify-email')).toBe(true);
  });

  it('a delivery the reconciler enqueues again, after the API died between its outbox commit and the enqueue, joins the trace of its request', async () => {
    const user = await new UserFactory(new HttpClient(api.baseUrl)).create();
    const upload = await user.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(64, 48), 'photo.jpg') });
    expect(upload.status).toBe(201);
    const url = hooks.url('outbox');
    expect((await user.http.post('/v1/webhook-endpoints', { url, events: ['image.deleted'] })).status).toBe(201);

    // The caller's own trace: the API continues it (its spans die with it, unexported).
    const traceId = randomBytes(16).toString('hex');
    const doomed = await startApiProcess({ ...env, FAULT_CRASH_AFTER_OUTBOX_COMMIT: 'true' }, 150_000);
    try {
      await expect(
        fetch(`${doomed.baseUrl}/v1/images/${upload.body.id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${user.accessToken}`, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
        }),
      ).rejects.toThrow();
      expect(await doomed.exited).toBe('SIGKILL');
    } finally {
      await doomed.kill();
    }

    // Never enqueued: the worker's reconciler finds the delivery overdue and enqueues it from
    // its row, with the trace context the row kept.
    const [msg] = await hooks.waitFor(url, 1, 60_000);
    expect(JSON.parse(msg.body).type).toBe('image.deleted');
    expect(String(msg.headers.traceparent)).toMatch(new RegExp(`^00-${traceId}-`));
    const run = await otlp.waitFor((spans) => spans.find((s) => s.traceId === traceId && s.name === 'process webhook-delivery'));
    expect(run).toMatchObject({ service: 'pixmill-worker', kind: CONSUMER });
    expect((run as ReceivedSpan).parentSpanId).not.toBe('');
  }, 150_000);
});
