import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { Webhook } from 'standardwebhooks';
import { Client } from 'pg';
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
 * The reconciler's repair of work whose truth is a row, not a job: upload thumbnails.
 * Real PostgreSQL, Redis and worker; the worker runs in this process so a test makes a
 * reconcile pass itself (ReconcilerService.reconcileOnce) instead of waiting out an
 * interval, and rows are backdated past the reconciler's grace periods rather than
 * waited for. A paused queue holds a job back from the worker while a test makes Redis
 * lose it or finish it.
 */
describe('reconciler: thumbnails (integration)', () => {
  let api: RunningApi;
  let worker: RunningWorker;
  let receiver: WebhookReceiver;
  let http: HttpClient;
  let db: Client;
  let reconciler: ReconcilerService;
  let storage: LocalStorageDriver;
  let transforms: Queue;

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
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await transforms?.resume();
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
});
