import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import IORedis from 'ioredis';
import sharp from 'sharp';
import { DataSource } from 'typeorm';
import { DerivativeRepository, JobEntity, JobRepository } from '@pixmill/db';
import { canonicalSpec, InputFormat, specHash, TransformationSpec } from '@pixmill/imaging';
import { JobName, JobQueue, QueueName } from '@pixmill/queue';
import { derivativeKey, imagePrefix, IMMUTABLE_CACHE_CONTROL, LocalStorageDriver } from '@pixmill/storage';
import {
  deleteKeysMatching,
  freePort,
  HttpClient,
  jpeg,
  pollUntil,
  RunningApi,
  startApi,
  startWorkerProcess,
  TEST_QUEUE_PREFIX,
  TEST_REDIS_URL,
  TestUser,
  truncatedJpeg,
  uploadForm,
  UserFactory,
  WorkerProcess,
} from '@pixmill/testing';

/**
 * The worker side of transformations under failure, with real PostgreSQL, Redis and
 * worker processes. Jobs are made the way the API makes them (row first, then the
 * BullMQ job under the row's id), straight through the repositories and JobQueue, so
 * these tests do not depend on the HTTP routes for transformations.
 */
describe('worker resilience (e2e)', () => {
  /** Short lock and stalled check so a killed worker's job is taken back within seconds. */
  const workerEnv = () => ({
    STORAGE_LOCAL_DIR: api.config.storage.localDir,
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    RECONCILE_INTERVAL_MS: '500',
  });

  let api: RunningApi;
  let user: TestUser;
  let jobs: JobRepository;
  let derivatives: DerivativeRepository;
  let queue: JobQueue;
  let storage: LocalStorageDriver;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    api = await startApi({ RATE_LIMIT_PER_MINUTE: '100000' });
    user = await new UserFactory(new HttpClient(api.baseUrl)).create();
    jobs = api.app.get(JobRepository);
    derivatives = api.app.get(DerivativeRepository);
    queue = api.app.get(JobQueue);
    storage = new LocalStorageDriver({ dir: api.config.storage.localDir });
  });

  afterAll(async () => {
    await stopWorkers();
    await api?.close();
  });

  /** SIGTERM to every worker of this suite still running, and wait for them to end. */
  async function stopWorkers(): Promise<void> {
    await Promise.all(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).map((w) => w.stop()));
  }

  async function startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
    const worker = await startWorkerProcess({ ...workerEnv(), ...env });
    workers.push(worker);
    return worker;
  }

  async function upload(owner: TestUser, bytes: Buffer): Promise<{ id: string; format: InputFormat }> {
    const res = await owner.http.request('POST', '/v1/images', { body: uploadForm(bytes, 'photo.jpg') });
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${res.text}`);
    return { id: res.body.id, format: res.body.format };
  }

  /**
   * What the API does on submission: the row (canonical spec, quota unit, fair round) first,
   * then the BullMQ job under the row's id. Without `enqueue` the row is left for the reconciler.
   */
  async function submit(image: { id: string; format: InputFormat }, spec: TransformationSpec, enqueue = true): Promise<string> {
    const r = await jobs.submit(
      {
        id: randomUUID(),
        userId: user.id,
        imageId: image.id,
        specHash: specHash(spec, image.format),
        spec: canonicalSpec(spec, image.format) as unknown as Record<string, unknown>,
      },
      { free: 1_000_000 },
    );
    if (r.outcome !== 'created') throw new Error(`job not created: ${r.outcome}`);
    if (enqueue) await queue.enqueueTransform(r.job);
    return r.job.id;
  }

  /** Polls the row until it is final; fails with the workers' logs when it is not. */
  async function settled(jobId: string, timeoutMs = 20_000): Promise<JobEntity> {
    const row = await pollUntil(() => jobs.findById(jobId), (j) => !!j && ['succeeded', 'failed', 'canceled'].includes(j.status), timeoutMs);
    if (!row || !['succeeded', 'failed'].includes(row.status)) {
      const logs = workers.map((w) => `--- worker ${w.pid}\n${w.output().slice(-2000)}`).join('\n');
      throw new Error(`job ${jobId} did not settle: ${JSON.stringify(row)}\n${logs}`);
    }
    return row;
  }

  describe('one worker', () => {
    let worker: WorkerProcess;
    let image: { id: string; format: InputFormat };
    const resizeToWebp: TransformationSpec = {
      operations: [{ op: 'resize', width: 200, height: 150, fit: 'cover' }],
      output: { format: 'webp', quality: 80 },
    };

    beforeAll(async () => {
      worker = await startWorker();
      image = await upload(user, await jpeg(640, 480));
    });

    it('renders a job: row succeeded, one derivative row, the object is a 200×150 WebP with immutable caching', async () => {
      const jobId = await submit(image, resizeToWebp);
      const row = await settled(jobId);
      expect(row).toMatchObject({ status: 'succeeded', progress: 100, attempts: 1, errorCode: null, derivativeId: expect.any(String) });

      const derivative = await derivatives.find(image.id, specHash(resizeToWebp, image.format));
      expect(derivative).toMatchObject({
        id: row.derivativeId,
        userId: user.id,
        format: 'webp',
        mimeType: 'image/webp',
        width: 200,
        height: 150,
        storageKey: derivativeKey(user.id, image.id, row.specHash, 'webp'),
        spec: canonicalSpec(resizeToWebp, image.format),
      });
      const bytes = await storage.getBuffer(derivative!.storageKey);
      expect(bytes.length).toBe(derivative!.bytes);
      const meta = await sharp(bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 200, 150]);
      expect(await storage.head(derivative!.storageKey)).toMatchObject({ contentType: 'image/webp', cacheControl: IMMUTABLE_CACHE_CONTROL });
    });

    it('a run that finds its derivative already stored (an earlier attempt crashed after storing it) reuses it', async () => {
      const first = await derivatives.find(image.id, specHash(resizeToWebp, image.format));
      const stored = await storage.head(first!.storageKey);
      // The crashed attempt's row was written before its derivative existed (the API no longer
      // inserts one for a derivative that exists), so it is put back in flight as it was.
      const jobId = randomUUID();
      await api.app.get(DataSource).query(
        `INSERT INTO jobs (id, user_id, image_id, spec_hash, spec) VALUES ($1, $2, $3, $4, $5)`,
        [jobId, user.id, image.id, first!.specHash, JSON.stringify(canonicalSpec(resizeToWebp, image.format))],
      );
      await queue.enqueueTransform({ id: jobId, fairSeq: 1 });
      const row = await settled(jobId);
      expect(row).toMatchObject({ status: 'succeeded', derivativeId: first!.id, attempts: 1 });
      expect(await derivatives.listForImage(image.id)).toHaveLength(1);
      expect((await storage.head(first!.storageKey))!.lastModified).toEqual(stored!.lastModified); // not written again
    });

    it('input that does not decode fails with its code after one attempt, and BullMQ does not retry it', async () => {
      const broken = await upload(user, await jpeg(320, 240, { seed: 11 }));
      // The stored original goes bad after the upload was validated (local driver: a plain file).
      const file = path.join(api.config.storage.localDir, 'users', user.id, 'images', broken.id, 'original');
      await writeFile(file, await truncatedJpeg());

      const jobId = await submit(broken, { operations: [{ op: 'grayscale' }], output: { format: 'png' } });
      const row = await settled(jobId);
      expect(row).toMatchObject({ status: 'failed', errorCode: 'image_corrupt', attempts: 1, derivativeId: null });
      expect(row.errorMessage).toEqual(expect.any(String));
      const bull = await queue.queue(QueueName.Transform).getJob(jobId);
      expect({ state: await bull!.getState(), attemptsMade: bull!.attemptsMade }).toEqual({ state: 'failed', attemptsMade: 1 });
      expect(await derivatives.listForImage(broken.id)).toEqual([]);
    });

    it("a watermark naming another user's image fails as validation_failed (ownership is checked again at render)", async () => {
      const other = await new UserFactory(new HttpClient(api.baseUrl)).create();
      const theirs = await upload(other, await jpeg(64, 48, { seed: 12 }));
      const jobId = await submit(image, {
        operations: [{ op: 'watermark', imageId: theirs.id, gravity: 'southeast', opacity: 0.5 }],
        output: { format: 'jpeg' },
      });
      expect(await settled(jobId)).toMatchObject({ status: 'failed', errorCode: 'validation_failed', attempts: 1 });
    });

    it('a transient fault on every attempt ends as internal_error after the last one, recorded once on the row', async () => {
      const gone = await upload(user, await jpeg(320, 240, { seed: 13 }));
      await storage.delete(`${imagePrefix(user.id, gone.id)}original`); // storage answers "not found" every time
      const jobId = await submit(gone, { operations: [{ op: 'flip' }], output: { format: 'png' } }, false);
      // Two quick attempts instead of the default five with exponential backoff, to keep the test short.
      await queue.add({ name: JobName.Transform, data: { jobId } }, { jobId, attempts: 2, backoff: { type: 'fixed', delay: 100 } });
      const row = await settled(jobId);
      expect(row).toMatchObject({ status: 'failed', errorCode: 'internal_error', attempts: 2 });
      expect(row.errorMessage).toMatch(/^Rendering failed after 2 attempts: /);
      expect((await queue.queue(QueueName.Transform).getJob(jobId))!.attemptsMade).toBe(2);
    });

    it('SIGKILL mid-render: another worker takes the stalled job back and finishes it, with one derivative', async () => {
      // Compressed AVIF of a noisy 1600×1200 photo takes seconds: long enough to kill it midway.
      const slow = await upload(user, await jpeg(1600, 1200, { seed: 4 }));
      const jobId = await submit(slow, { operations: [], output: { format: 'avif', compress: true } });
      // Started (the render takes seconds); progress lives in the queue, reported once the render is done.
      expect(await pollUntil(() => jobs.findById(jobId), (j) => !j || j.status !== 'queued', 15_000, 50)).toMatchObject({ status: 'active', attempts: 1, progress: 0 });
      expect([0, null]).toContain(await queue.transformProgress(jobId));
      await worker.kill();
      expect(await jobs.findById(jobId)).toMatchObject({ status: 'active' });
      expect(await derivatives.listForImage(slow.id)).toEqual([]);

      await startWorker();
      const row = await settled(jobId, 40_000);
      expect(row.status).toBe('succeeded');
      expect(row.attempts).toBeGreaterThanOrEqual(2);
      const list = await derivatives.listForImage(slow.id);
      expect(list).toHaveLength(1);
      const meta = await sharp(await storage.getBuffer(list[0].storageKey)).metadata();
      expect([meta.format, meta.compression, meta.width, meta.height]).toEqual(['heif', 'av1', 1600, 1200]);
    });
  });

  describe('graceful shutdown', () => {
    it('SIGTERM mid-render: the worker finishes the job in hand, then exits 0', async () => {
      // Only the worker under test may take the job.
      await stopWorkers();
      const draining = await startWorker();
      const slow = await upload(user, await jpeg(1600, 1200, { seed: 5 }));
      const jobId = await submit(slow, { operations: [{ op: 'flip' }], output: { format: 'avif', compress: true } });
      const rendering = await pollUntil(() => jobs.findById(jobId), (j) => !j || j.status !== 'queued', 15_000, 50);
      expect(rendering).toMatchObject({ status: 'active' });
      expect(await draining.stop()).toBe(0);
      const row = await jobs.findById(jobId);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(await derivatives.listForImage(slow.id)).toHaveLength(1);
    });

    it('a render longer than the grace period: the worker hands the job back and ends; another worker takes it at once and makes one derivative', async () => {
      await stopWorkers();
      // Locks that outlast this test: the job can only come back by being handed back, not by its lock expiring.
      const lockOutlastsTest = { WORKER_LOCK_DURATION_MS: '600000', WORKER_STALLED_INTERVAL_MS: '600000' };
      const impatient = await startWorker({ ...lockOutlastsTest, WORKER_SHUTDOWN_TIMEOUT_MS: '500' });
      const slow = await upload(user, await jpeg(1600, 1200, { seed: 6 }));
      const jobId = await submit(slow, { operations: [{ op: 'mirror' }], output: { format: 'avif', compress: true } });
      // Started (the render takes seconds); progress lives in the queue, reported once the render is done.
      expect(await pollUntil(() => jobs.findById(jobId), (j) => !j || j.status !== 'queued', 15_000, 50)).toMatchObject({ status: 'active', attempts: 1, progress: 0 });
      expect([0, null]).toContain(await queue.transformProgress(jobId));

      // The render takes seconds, the grace period half of one: the worker gives up on it and
      // ends itself (process.exit would have waited for the native render to end).
      expect(await impatient.stop()).toBe('SIGKILL');
      expect(impatient.output()).toMatch(new RegExp(`handed back \\d job\\(s\\) in hand to their queues: .*transform/${jobId}`));
      expect(impatient.output()).toContain('exiting now');
      // Nothing is recorded about the unfinished attempt; the job waits in its queue under its fair
      // round (a prioritized job goes back among the prioritized), not as a stalled job.
      expect(await jobs.findById(jobId)).toMatchObject({ status: 'active', attempts: 1, derivativeId: null, errorCode: null });
      expect(await derivatives.listForImage(slow.id)).toEqual([]);
      const transforms = queue.queue(QueueName.Transform);
      expect(await transforms.getJobState(jobId)).toBe('prioritized');

      await startWorker(lockOutlastsTest);
      const row = await settled(jobId, 60_000);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 2, errorCode: null });
      const list = await derivatives.listForImage(slow.id);
      expect(list).toHaveLength(1);
      expect(row.derivativeId).toBe(list[0].id);
      const meta = await sharp(await storage.getBuffer(list[0].storageKey)).metadata();
      expect([meta.format, meta.compression, meta.width, meta.height]).toEqual(['heif', 'av1', 1600, 1200]);
      // BullMQ's view: started twice, one attempt made (the one that completed), never stalled.
      const bull = await transforms.getJob(jobId);
      expect({
        state: await bull!.getState(),
        attemptsStarted: bull!.attemptsStarted,
        attemptsMade: bull!.attemptsMade,
        stalledCounter: bull!.stalledCounter,
      }).toEqual({ state: 'completed', attemptsStarted: 2, attemptsMade: 1, stalledCounter: 0 });
    });
  });

  describe('Redis loses its data; two workers', () => {
    let redis: IORedis;

    beforeAll(async () => {
      // Nothing of this run may be consuming while the queue data is dropped.
      await stopWorkers();
      redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    });
    afterAll(() => redis?.disconnect());

    /**
     * The FLUSHALL of a real incident, limited to this test run: the Redis under test is
     * shared with other runs (each under its own queue prefix), so only our keys go.
     */
    async function dropQueueData(): Promise<void> {
      await deleteKeysMatching(redis, `${TEST_QUEUE_PREFIX}:*`);
    }

    const leaderGauge = async (port: number): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('pixmill_reconciler_leader '));
      return Number(line?.split(' ')[1] ?? NaN);
    };

    it('the elected reconciler re-enqueues queued jobs the queue lost, and lost cleanups; exactly one leader, and another takes over', async () => {
      const image = await upload(user, await jpeg(320, 240, { seed: 21 }));
      const ids = [];
      for (const width of [100, 120, 140]) ids.push(await submit(image, { operations: [{ op: 'resize', width }], output: { format: 'jpeg' } }));
      // A cleanup whose job was lost a while ago (backdated past the reconciler's 60 s threshold).
      const strayPrefix = imagePrefix(user.id, randomUUID());
      await storage.put(`${strayPrefix}original`, Buffer.from('stray'), { contentType: 'application/octet-stream' });
      const ds = api.app.get(DataSource);
      const [{ id: cleanupId }] = await ds.query(
        `INSERT INTO storage_cleanups (prefix, reason, created_at) VALUES ($1, 'test', now() - interval '2 minutes') RETURNING id`,
        [strayPrefix],
      );

      await dropQueueData();
      for (const id of ids) expect(await queue.queue(QueueName.Transform).getJobState(id)).toBe('unknown');

      // BullMQ jobs that finished while their rows still say queued, as when a worker's last write
      // to the row was lost. Made here by pointing their data at no row (completed: skipped) or at a
      // malformed id (failed: the database refuses it).
      const transforms = queue.queue(QueueName.Transform);
      const finishedEmpty = await submit(image, { operations: [{ op: 'resize', width: 160 }], output: { format: 'jpeg' } }, false);
      await transforms.add(JobName.Transform, { jobId: randomUUID() }, { jobId: finishedEmpty });
      const failedElsewhere = await submit(image, { operations: [{ op: 'resize', width: 180 }], output: { format: 'jpeg' } }, false);
      await transforms.add(JobName.Transform, { jobId: 'not-a-job-id' }, { jobId: failedElsewhere, attempts: 1 });

      const ports = [await freePort(), await freePort()];
      const [a, b] = await Promise.all(ports.map((port) => startWorker({ WORKER_METRICS_PORT: String(port) })));

      for (const id of ids) expect(await settled(id, 30_000)).toMatchObject({ status: 'succeeded', attempts: 1 });
      // Completed without a derivative: the reconciler removes the finished BullMQ job and runs the row again.
      expect(await settled(finishedEmpty, 30_000)).toMatchObject({ status: 'succeeded', attempts: 1 });
      // Failed in BullMQ: the row is settled as failed.
      expect(await settled(failedElsewhere, 30_000)).toMatchObject({ status: 'failed', errorCode: 'internal_error', attempts: 0 });
      const widths = (await derivatives.listForImage(image.id)).map((d) => d.width).sort((x, y) => x - y);
      expect(widths).toEqual([100, 120, 140, 160]);
      expect(await pollUntil(() => storage.list(strayPrefix), (keys) => keys.length === 0)).toEqual([]);
      expect(await pollUntil(async () => (await ds.query('SELECT id FROM storage_cleanups WHERE id = $1', [cleanupId])).length, (n) => n === 0)).toBe(0);

      // Exactly one leader, by its gauge and by its log.
      const gauges = await Promise.all(ports.map(leaderGauge));
      expect([...gauges].sort()).toEqual([0, 1]);
      const elected = [a, b].filter((w) => w.output().includes('reconciler leader elected'));
      expect(elected).toHaveLength(1);
      expect(gauges[[a, b].indexOf(elected[0])]).toBe(1);
      expect(elected[0].output()).toMatch(/re-enqueued \d transform job/);

      // The leader dies: its session ends, the lock with it, and the other worker is elected.
      const leader = gauges.indexOf(1);
      const follower = 1 - leader;
      await [a, b][leader].kill();
      expect(await pollUntil(() => leaderGauge(ports[follower]), (g) => g === 1, 10_000)).toBe(1);
      expect([a, b][follower].output()).toContain('reconciler leader elected');
      // SIGTERM while leading: the tick in hand finishes, the lock is released, the process exits cleanly.
      expect(await [a, b][follower].stop()).toBe(0);
    });
  });
});
