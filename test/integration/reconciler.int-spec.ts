import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { Webhook } from 'standardwebhooks';
import { Client } from 'pg';
import { ImageRepository } from '@pixmill/db';
import { JobName, JobQueue, jobIds, QueueName } from '@pixmill/queue';
import { LocalStorageDriver, originalKey } from '@pixmill/storage';
import {
  headersOf,
  HttpClient,
  jpeg,
  pollUntil,
  RunningApi,
  RunningWorker,
  startApi,
  startWorker,
  TEST_DATABASE_URL,
  TestUser,
  truncatedJpeg,
  uploadForm,
  UserFactory,
  waitForThumbnail,
  WebhookReceiver,
} from '@pixmill/testing';
import { ReconcilerService } from '../../apps/worker/src/reconciler.service';

/** Webhooks to 127.0.0.1 allowed, the first attempt at once, retries 1 s apart. */
const WEBHOOKS = { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_RETRY_SCHEDULE: '0,1s,1s,1s', WEBHOOK_TIMEOUT_MS: '1000' };

/**
 * The reconciler's repair of work whose truth is a row, not a job: upload thumbnails and
 * webhook deliveries. Real PostgreSQL, Redis and worker; the worker runs in this process so
 * a test makes a reconcile pass itself (ReconcilerService.reconcileOnce) instead of waiting
 * out an interval, and rows are backdated past the reconciler's grace periods rather than
 * waited for. A paused queue holds a job back from the worker while a test makes Redis
 * lose it or finish it.
 */
describe('reconciler: thumbnails and webhook deliveries (integration)', () => {
  let api: RunningApi;
  let worker: RunningWorker;
  let receiver: WebhookReceiver;
  let http: HttpClient;
  let db: Client;
  let reconciler: ReconcilerService;
  let storage: LocalStorageDriver;
  let transforms: Queue;
  let webhooks: Queue;

  beforeAll(async () => {
    [api, receiver] = await Promise.all([startApi(WEBHOOKS), WebhookReceiver.start()]);
    http = new HttpClient(api.baseUrl);
    // An hour between passes: after the one at boot, the reconciler runs when a test says so.
    worker = await startWorker({
      ...WEBHOOKS,
      STORAGE_LOCAL_DIR: api.config.storage.localDir,
      PUBLIC_BASE_URL: api.baseUrl,
      RECONCILE_INTERVAL_MS: String(3600_000),
    });
    reconciler = worker.app.get(ReconcilerService);
    storage = new LocalStorageDriver({ dir: api.config.storage.localDir });
    const queue = api.app.get(JobQueue);
    transforms = queue.queue(QueueName.Transform);
    webhooks = queue.queue(QueueName.Webhook);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await Promise.all([transforms?.resume(), webhooks?.resume()]);
    await worker?.close();
    await Promise.all([api?.close(), receiver?.close(), db?.end()]);
  });

  /** One pass, made by this worker: it must be the leader, or the pass repaired nothing. */
  async function reconcile(): Promise<void> {
    expect(await reconciler.reconcileOnce()).toBe(true);
  }

  /** Runs `hold` with `queue` paused: what is enqueued meanwhile waits, untouched by the worker. */
  async function whilePaused<T>(queue: Queue, hold: () => Promise<T>): Promise<T> {
    await queue.pause();
    try {
      return await hold();
    } finally {
      await queue.resume();
    }
  }

  /** Past the reconciler's grace for rows on their way into the queue. */
  const backdateImage = (id: string) => db.query(`UPDATE images SET created_at = created_at - interval '1 minute' WHERE id = $1`, [id]);
  const thumbnailRow = async (id: string) =>
    (await db.query(`SELECT thumbnail_key AS "thumbnailKey", thumbnail_error AS "thumbnailError" FROM images WHERE id = $1`, [id])).rows[0];

  async function upload(user: TestUser, bytes: Buffer, fields: Record<string, string> = {}): Promise<string> {
    const res = await user.http.request('POST', '/v1/images', { body: uploadForm(bytes, 'photo.jpg', { fields }) });
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${res.text}`);
    return res.body.id;
  }

  describe('thumbnails', () => {
    it('an upload whose thumbnail job Redis lost gets its thumbnail, and its image.ready, after a reconcile pass', async () => {
      const user = await new UserFactory(http).create();
      const url = receiver.url('ready');
      const imageId = await whilePaused(transforms, async () => {
        const id = await upload(user, await jpeg(640, 480, { seed: 31 }), { webhookUrl: url });
        expect(await transforms.remove(jobIds.thumbnail(id))).toBe(1); // Redis loses it
        return id;
      });
      await backdateImage(imageId);
      expect(await transforms.getJobState(jobIds.thumbnail(imageId))).toBe('unknown');

      await reconcile();

      const thumbnailUrl = await waitForThumbnail(user.http, imageId);
      const served = await fetch(thumbnailUrl);
      expect(served.status).toBe(200);
      const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 192]);

      const [msg] = await receiver.waitFor(url, 1);
      expect(msg).toBeDefined();
      const { secret } = (await user.http.get('/v1/webhook-secret')).body;
      const event = new Webhook(secret).verify(msg.body, headersOf(msg.headers)) as any;
      expect(event).toMatchObject({ type: 'image.ready', data: { id: imageId, width: 640, height: 480 } });
      expect(event.data.urls.thumbnail).toEqual(expect.any(String));

      // Another pass finds nothing to do: still one thumbnail, one image.ready.
      await reconcile();
      expect(await transforms.getJobState(jobIds.thumbnail(imageId))).toBe('completed');
      expect(receiver.requestsTo(url)).toHaveLength(1);
    });

    it('the scan for missing thumbnails goes on from where its last page ended, in creation order', async () => {
      const user = await new UserFactory(http).create();
      const images = worker.app.get(ImageRepository);
      // The queue is held throughout, so the three stay without a thumbnail while the scan is read.
      await whilePaused(transforms, async () => {
        const ids: string[] = [];
        for (const seed of [41, 42, 43]) ids.push(await upload(user, await jpeg(64, 48, { seed })));
        // Older than everything else in the table, a second apart: these three come first, in this order.
        for (const [i, id] of ids.entries()) {
          await db.query(`UPDATE images SET created_at = '2000-01-01T00:00:00Z'::timestamptz + make_interval(secs => $2) WHERE id = $1`, [id, i]);
        }
        try {
          const first = await images.missingThumbnail(5, 2);
          expect(first.map((r) => r.id)).toEqual(ids.slice(0, 2));
          const next = await images.missingThumbnail(5, 2, first[1]);
          expect(next[0].id).toBe(ids[2]);
          expect(next.map((r) => r.id)).not.toContain(ids[1]);
        } finally {
          // Back to now, so other scans are not changed by these three.
          await db.query(`UPDATE images SET created_at = now() WHERE id = ANY($1)`, [ids]);
        }
      });
    });

    it('an original that does not decode: the thumbnail fails once, is marked on the row, and is not enqueued again after BullMQ drops the failed job', async () => {
      const user = await new UserFactory(http).create();
      const url = receiver.url('never-ready');
      const imageId = await whilePaused(transforms, async () => {
        const id = await upload(user, await jpeg(320, 240, { seed: 32 }), { webhookUrl: url });
        // The stored original goes bad after the upload was validated (local driver: a plain file).
        await writeFile(path.join(api.config.storage.localDir, originalKey(user.id, id)), await truncatedJpeg());
        return id;
      });
      const jobId = jobIds.thumbnail(imageId);
      expect(await pollUntil(() => transforms.getJobState(jobId), (s) => s === 'failed')).toBe('failed');
      expect((await transforms.getJob(jobId))!.attemptsMade).toBe(1);
      expect(await thumbnailRow(imageId)).toEqual({ thumbnailKey: null, thumbnailError: expect.stringMatching(/^image_corrupt: /) });

      // A day later BullMQ removes the failed job (removeOnFail), as Redis losing its data would.
      await transforms.remove(jobId);
      await backdateImage(imageId);
      await reconcile();

      expect(await transforms.getJobState(jobId)).toBe('unknown');
      expect((await user.http.get(`/v1/images/${imageId}`)).body.urls.thumbnail).toBeNull();
      expect(receiver.requestsTo(url)).toHaveLength(0);
    });

    it('a thumbnail job that failed through all its attempts (storage down) is left while BullMQ keeps it, and enqueued again once it is dropped', async () => {
      const user = await new UserFactory(http).create();
      const { imageId, bytes } = await whilePaused(transforms, async () => {
        const original = await jpeg(320, 240, { seed: 33 });
        const id = await upload(user, original);
        // One attempt instead of five with backoff, and the original unreadable through it.
        await transforms.remove(jobIds.thumbnail(id));
        await transforms.add(JobName.Thumbnail, { imageId: id }, { jobId: jobIds.thumbnail(id), attempts: 1 });
        await storage.delete(originalKey(user.id, id));
        return { imageId: id, bytes: original };
      });
      const jobId = jobIds.thumbnail(imageId);
      expect(await pollUntil(() => transforms.getJobState(jobId), (s) => s === 'failed')).toBe('failed');
      expect(await thumbnailRow(imageId)).toEqual({ thumbnailKey: null, thumbnailError: null }); // not bad input: not marked
      await backdateImage(imageId);

      await reconcile();
      expect(await transforms.getJobState(jobId)).toBe('failed');
      expect((await transforms.getJob(jobId))!.attemptsMade).toBe(1); // the same job, not run again

      // Storage is back; BullMQ drops the failed job; the next pass enqueues it again.
      await storage.put(originalKey(user.id, imageId), bytes, { contentType: 'image/jpeg' });
      await transforms.remove(jobId);
      await reconcile();
      const served = await fetch(await waitForThumbnail(user.http, imageId));
      const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 192]);
    });
  });

  describe('webhook deliveries', () => {
    /**
     * A user with an endpoint subscribed to image.deleted, and the delivery of one such event
     * still pending; `meddle` runs while the webhook queue is paused, with the delivery's
     * BullMQ job waiting there.
     */
    async function pendingDelivery(answers: number[], meddle: (deliveryId: string) => Promise<void>) {
      const user = await new UserFactory(http).create();
      const imageId = await upload(user, await jpeg(64, 48, { seed: 34 }));
      const url = receiver.url('deleted', answers);
      const endpoint = (await user.http.post('/v1/webhook-endpoints', { url, events: ['image.deleted'] })).body;
      const deliveryId = await whilePaused(webhooks, async () => {
        expect((await user.http.delete(`/v1/images/${imageId}`)).status).toBe(204);
        const [delivery] = (await user.http.get(`/v1/webhook-deliveries?endpointId=${endpoint.id}`)).body.items;
        expect(delivery).toMatchObject({ status: 'pending', type: 'image.deleted' });
        await meddle(delivery.id);
        return delivery.id as string;
      });
      return { user, url, endpoint, imageId, deliveryId };
    }

    /** Past the reconciler's grace for overdue deliveries. */
    const overdue = (id: string) => db.query(`UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 minute' WHERE id = $1`, [id]);
    const deliveryOf = async (user: TestUser, endpointId: string) =>
      (await user.http.get(`/v1/webhook-deliveries?endpointId=${endpointId}`)).body.items[0];

    it('a delivery whose BullMQ job completed while its row stayed pending is sent after a reconcile pass', async () => {
      const { user, url, endpoint, imageId, deliveryId } = await pendingDelivery([200], async (id) => {
        // The job under the delivery's id ran and completed without touching this row (its data names no delivery).
        await webhooks.remove(jobIds.webhookDelivery(id));
        await webhooks.add(JobName.WebhookDelivery, { deliveryId: '00000000-0000-4000-8000-000000000000' }, { jobId: jobIds.webhookDelivery(id) });
      });
      const jobId = jobIds.webhookDelivery(deliveryId);
      expect(await pollUntil(() => webhooks.getJobState(jobId), (s) => s === 'completed')).toBe('completed');
      expect(await deliveryOf(user, endpoint.id)).toMatchObject({ status: 'pending', attempts: [] });
      await overdue(deliveryId);

      await reconcile();

      const [msg] = await receiver.waitFor(url, 1);
      expect(msg).toBeDefined();
      const event = new Webhook(endpoint.secret).verify(msg.body, headersOf(msg.headers)) as any;
      expect(event).toMatchObject({ type: 'image.deleted', data: { id: imageId } });
      const settled = await pollUntil(() => deliveryOf(user, endpoint.id), (d) => d.status !== 'pending');
      expect(settled).toMatchObject({ status: 'succeeded' });
      expect(settled.attempts).toHaveLength(1);
      expect(settled.attempts[0]).toMatchObject({ statusCode: 200, error: null });
    });

    it('a delivery whose BullMQ job ran out of attempts before its row did is tried again, counted on the row', async () => {
      const { user, url, endpoint, deliveryId } = await pendingDelivery([500, 200], async (id) => {
        // BullMQ allows this job one attempt; the row's schedule allows four.
        await webhooks.remove(jobIds.webhookDelivery(id));
        await webhooks.add(JobName.WebhookDelivery, { deliveryId: id }, { jobId: jobIds.webhookDelivery(id), attempts: 1 });
      });
      const jobId = jobIds.webhookDelivery(deliveryId);
      expect(await pollUntil(() => webhooks.getJobState(jobId), (s) => s === 'failed')).toBe('failed');
      const first = await deliveryOf(user, endpoint.id);
      expect(first).toMatchObject({ status: 'pending' });
      expect(first.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500]);
      await overdue(deliveryId);

      await reconcile();

      const settled = await pollUntil(() => deliveryOf(user, endpoint.id), (d) => d.status !== 'pending');
      expect(settled).toMatchObject({ status: 'succeeded' });
      expect(settled.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 200]);
      const received = receiver.requestsTo(url);
      expect(received).toHaveLength(2);
      expect(received[1].headers['webhook-id']).toBe(received[0].headers['webhook-id']);
    });
  });
});
