import { randomUUID } from 'node:crypto';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { AppConfig } from '@pixmill/config';
import { createDataSource, DerivativeRepository, ImageEntity, ImageRepository, JobEntity, JobRepository, ReadCache } from '@pixmill/db';
import { testConfig, TEST_DATABASE_URL, TEST_REDIS_URL } from '@pixmill/testing';

/** The read cache against the real PostgreSQL and Redis, through the repositories that use it. */
describe('ReadCache (real PostgreSQL and Redis)', () => {
  let ds: DataSource;
  let redis: IORedis;
  const caches: ReadCache[] = [];
  const config = testConfig();
  const prefix = `${config.redis.queuePrefix.replace(/[{}]/g, '')}:rc:`;
  const rowKey = (kind: string, id: string) => `${prefix}{${kind}:${id}}`;

  function repositories(overrides: Record<string, string> = {}, cfg: AppConfig = testConfig(overrides)) {
    const cache = new ReadCache(cfg, ds);
    caches.push(cache);
    return { cache, jobs: new JobRepository(ds, cache), images: new ImageRepository(ds, cache), derivatives: new DerivativeRepository(ds, cache) };
  }

  async function newUser(): Promise<string> {
    const [{ id }] = await ds.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [`cache-${randomUUID()}@example.com`]);
    return id;
  }

  async function newImage(images: ImageRepository, userId: string): Promise<ImageEntity> {
    const id = randomUUID();
    return images.insert({
      id,
      userId,
      filename: 'a.png',
      format: 'png',
      mimeType: 'image/png',
      width: 10,
      height: 10,
      pages: 1,
      bytes: 100,
      sha256: 'x'.repeat(64),
      exif: null,
      gps: null,
      storageKey: `users/${userId}/images/${id}/original`,
    });
  }

  async function newJob(jobs: JobRepository, image: ImageEntity): Promise<JobEntity> {
    return (await jobs.insertQueued({ id: randomUUID(), userId: image.userId, imageId: image.id, specHash: randomUUID(), spec: { operations: [] } }))!;
  }

  async function newDerivative(job: JobEntity): Promise<string> {
    const [{ id }] = await ds.query(
      `INSERT INTO derivatives (image_id, user_id, spec_hash, spec, storage_key, format, mime_type, width, height, bytes)
       VALUES ($1, $2, $3, '{}', 'k', 'webp', 'image/webp', 5, 5, 10) RETURNING id`,
      [job.imageId, job.userId, job.specHash],
    );
    return id;
  }

  /** Changes the row behind the cache's back, as no Pixmill code does: shows whether a read came from Redis. */
  const sneakStatus = (id: string, status: string) => ds.query(`UPDATE jobs SET status = $2 WHERE id = $1`, [id, status]);

  beforeAll(async () => {
    ds = await createDataSource({ url: TEST_DATABASE_URL, poolSize: 4 }).initialize();
    redis = new IORedis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    caches.forEach((c) => c.onApplicationShutdown());
    await ds.destroy();
    redis.disconnect();
  });

  it('reads through: a miss stores the row with a TTL, the next read is served from Redis with its dates', async () => {
    const { jobs } = repositories();
    const userId = await newUser();
    const { images } = repositories();
    const job = await newJob(jobs, await newImage(images, userId));

    expect(await redis.exists(rowKey('job', job.id))).toBe(0);
    const first = await jobs.findOwned(userId, job.id);
    expect(first).toMatchObject({ id: job.id, status: 'queued' });
    const ttl = await redis.ttl(rowKey('job', job.id));
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);

    await sneakStatus(job.id, 'active');
    const second = await jobs.findOwned(userId, job.id);
    expect(second!.status).toBe('queued'); // from the cache
    expect(second!.createdAt).toBeInstanceOf(Date);
    expect(second!.createdAt.getTime()).toBe(new Date(job.createdAt).getTime());
  });

  it("still refuses another user's job or image when the row is cached", async () => {
    const { jobs, images } = repositories();
    const owner = await newUser();
    const other = await newUser();
    const image = await newImage(images, owner);
    const job = await newJob(jobs, image);
    expect(await jobs.findOwned(owner, job.id)).not.toBeNull();
    expect(await images.findOwned(owner, image.id)).not.toBeNull();
    expect(await redis.exists(rowKey('job', job.id), rowKey('image', image.id))).toBe(2);
    expect(await jobs.findOwned(other, job.id)).toBeNull();
    expect(await images.findOwned(other, image.id)).toBeNull();
  });

  it('every job write invalidates: markActive, setProgress, markSucceeded, markFailed, cancelQueued', async () => {
    const { jobs, images } = repositories();
    const userId = await newUser();
    const image = await newImage(images, userId);

    const a = await newJob(jobs, image);
    await jobs.findOwned(userId, a.id);
    await jobs.markActive(a.id);
    expect(await jobs.findOwned(userId, a.id)).toMatchObject({ status: 'active', attempts: 1 });
    await jobs.setProgress(a.id, 42);
    expect((await jobs.findOwned(userId, a.id))!.progress).toBe(42);
    const derivativeId = await newDerivative(a);
    await jobs.markSucceeded(a.id, derivativeId);
    expect(await jobs.findOwned(userId, a.id)).toMatchObject({ status: 'succeeded', progress: 100, derivativeId });

    const b = await newJob(jobs, image);
    await jobs.findOwned(userId, b.id);
    await jobs.markFailed(b.id, 'image_corrupt', 'bad');
    expect(await jobs.findOwned(userId, b.id)).toMatchObject({ status: 'failed', errorCode: 'image_corrupt' });

    const c = await newJob(jobs, image);
    await jobs.findOwned(userId, c.id);
    await jobs.cancelQueued(userId, c.id);
    expect((await jobs.findOwned(userId, c.id))!.status).toBe('canceled');
  });

  it('image writes invalidate: setThumbnail, and deleteOwned drops the image and the jobs its delete cancels', async () => {
    const { jobs, images } = repositories();
    const userId = await newUser();
    const image = await newImage(images, userId);
    const job = await newJob(jobs, image);
    expect((await images.findOwned(userId, image.id))!.thumbnailKey).toBeNull();
    await images.setThumbnail(image.id, 'thumb-key');
    const read = await images.findOwned(userId, image.id);
    expect(read!.thumbnailKey).toBe('thumb-key');
    expect(read!.createdAt).toBeInstanceOf(Date);

    expect(await jobs.findOwned(userId, job.id)).toMatchObject({ status: 'queued' });
    expect(await images.deleteOwned(userId, image.id)).toMatchObject({ id: image.id, bytes: 100, canceledJobs: [{ id: job.id }] });
    expect(await images.findOwned(userId, image.id)).toBeNull();
    expect(await jobs.findOwned(userId, job.id)).toMatchObject({ status: 'canceled', imageId: null }); // not the cached queued row
  });

  it("a write inside a caller's transaction is invalidated when the transaction commits, not before", async () => {
    const { jobs, images } = repositories();
    const userId = await newUser();
    const image = await newImage(images, userId);
    const job = await newJob(jobs, image);
    await images.findOwned(userId, image.id);
    await jobs.findOwned(userId, job.id);

    await ds.transaction(async (em) => {
      await images.deleteOwned(userId, image.id, em);
      await em.query(`UPDATE jobs SET progress = 7 WHERE id = $1`, [job.id]); // canceled by the delete, kept
      await jobs.jobWritten(job.id, em);
      // Not committed: other readers still see the row in PostgreSQL, so the cache must keep it too
      // (invalidating now would let one of them store the old row again after the bump).
      expect(await redis.exists(rowKey('image', image.id), rowKey('job', job.id))).toBe(2);
    });
    expect(await redis.exists(rowKey('image', image.id), rowKey('job', job.id))).toBe(0);
    expect(await images.findOwned(userId, image.id)).toBeNull();
    expect(await jobs.findOwned(userId, job.id)).toMatchObject({ status: 'canceled', progress: 7 });
  });

  it('a reader that read PostgreSQL before a write cannot store its row after the write invalidated', async () => {
    const { jobs, images, cache } = repositories();
    const userId = await newUser();
    const job = await newJob(jobs, await newImage(images, userId));

    // The reader notes the version and reads the queued row; before it stores, the writer commits and invalidates.
    const stale = await cache.readThrough(
      'job',
      job.id,
      async () => {
        const before = await jobs.findById(job.id);
        await jobs.markActive(job.id);
        return before;
      },
      (r) => r,
    );
    expect(stale!.status).toBe('queued'); // what it read…
    expect(await redis.exists(rowKey('job', job.id))).toBe(0); // …was refused by the compare-and-set
    expect((await jobs.findOwned(userId, job.id))!.status).toBe('active');
    expect(await redis.exists(rowKey('job', job.id))).toBe(1);
  });

  it('derivatives are cached by id', async () => {
    const { jobs, images, derivatives } = repositories();
    const userId = await newUser();
    const image = await newImage(images, userId);
    const job = await newJob(jobs, image);
    const id = await newDerivative(job);
    expect(await derivatives.findById(id)).toMatchObject({ id, width: 5, bytes: 10 });
    expect(await redis.exists(rowKey('derivative', id))).toBe(1);
    expect((await derivatives.findById(id))!.createdAt).toBeInstanceOf(Date);
  });

  it('READ_CACHE=false reads PostgreSQL every time and stores nothing, but still invalidates on writes', async () => {
    const on = repositories();
    const off = repositories({ READ_CACHE: 'false' });
    const userId = await newUser();
    const job = await newJob(off.jobs, await newImage(off.images, userId));
    await off.jobs.findOwned(userId, job.id);
    expect(await redis.exists(rowKey('job', job.id))).toBe(0);
    await on.jobs.findOwned(userId, job.id);
    await off.jobs.markActive(job.id);
    expect(await redis.exists(rowKey('job', job.id))).toBe(0);
    expect((await on.jobs.findOwned(userId, job.id))!.status).toBe('active');
  });

  describe('when Redis is down', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    let silentPort: number;
    let closedPort: number;

    beforeAll(async () => {
      silent = createServer((s) => sockets.push(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      silentPort = (silent.address() as AddressInfo).port;
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      closedPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
    });
    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => silent.close(() => r()));
    });

    it.each([
      ['refuses connections', () => closedPort],
      ['accepts connections but never answers', () => silentPort],
    ])('reads answer from PostgreSQL and writes succeed when Redis %s', async (_, port) => {
      // Without the cache's command timeout these calls would wait for Redis forever; the test's own timeout catches that.
      const { jobs, images } = repositories({ REDIS_URL: `redis://127.0.0.1:${port()}/0` });
      const userId = await newUser();
      const image = await newImage(images, userId);
      const job = await newJob(jobs, image);
      expect(await jobs.findOwned(userId, job.id)).toMatchObject({ id: job.id, status: 'queued' });
      expect(await images.findOwned(userId, image.id)).toMatchObject({ id: image.id });
      expect(await jobs.markActive(job.id)).toMatchObject({ status: 'active' });
      expect(await jobs.findOwned(userId, job.id)).toMatchObject({ status: 'active' });
    });
  });
});
