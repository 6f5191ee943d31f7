import { randomUUID } from 'node:crypto';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import IORedis from 'ioredis';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '@pixmill/config';
import { createDataSource, DerivativeRepository, ImageEntity, ImageRepository, JobEntity, JobRepository, PresetRepository, ReadCache } from '@pixmill/db';
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
    const r = await jobs.submit({ id: randomUUID(), userId: image.userId, imageId: image.id, specHash: randomUUID(), spec: { operations: [] } }, { free: 1000 });
    if (r.outcome !== 'created') throw new Error(`job not created: ${r.outcome}`);
    return r.job;
  }

  /** A job that has run and succeeded: final rows are the ones the cache holds. */
  async function finishedJob(jobs: JobRepository, image: ImageEntity): Promise<JobEntity> {
    const job = await newJob(jobs, image);
    await jobs.start(job.id, {}, randomUUID(), 60_000);
    return (await jobs.markSucceeded(job.id, await newDerivative(job)))!;
  }

  /** Deletes the image as ImagesService does: lock, cancel and delete its jobs, delete the row, in one transaction. */
  async function deleteImage(jobs: JobRepository, images: ImageRepository, userId: string, imageId: string, em?: EntityManager) {
    const run = async (tx: EntityManager) => {
      await images.lockOwned(userId, imageId, tx);
      const canceled = await jobs.cancelForImage(userId, imageId, tx);
      return { image: await images.deleteOwned(userId, imageId, tx), canceled };
    };
    return em ? run(em) : ds.transaction(run);
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

  it('reads through: a miss stores a final row with a TTL, the next read is served from Redis with its dates', async () => {
    const { jobs, images } = repositories();
    const userId = await newUser();
    const job = await finishedJob(jobs, await newImage(images, userId));

    expect(await redis.exists(rowKey('job', job.id))).toBe(0);
    const first = await jobs.findOwned(userId, job.id);
    expect(first).toMatchObject({ id: job.id, status: 'succeeded' });
    const ttl = await redis.ttl(rowKey('job', job.id));
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);

    await sneakStatus(job.id, 'failed');
    const second = await jobs.findOwned(userId, job.id);
    expect(second!.status).toBe('succeeded'); // from the cache
    expect(second!.createdAt).toBeInstanceOf(Date);
    expect(second!.createdAt.getTime()).toBe(new Date(job.createdAt).getTime());
  });

  it('a job in flight is never stored, so none of its transitions has anything to invalidate', async () => {
    const { jobs, images } = repositories();
    const userId = await newUser();
    const image = await newImage(images, userId);
    const job = await newJob(jobs, image);
    expect(await jobs.findOwned(userId, job.id)).toMatchObject({ status: 'queued' });
    expect(await redis.exists(rowKey('job', job.id))).toBe(0);
    await jobs.start(job.id, {}, randomUUID(), 60_000);
    expect(await jobs.findOwned(userId, job.id)).toMatchObject({ status: 'active', attempts: 1 });
    expect(await redis.exists(rowKey('job', job.id))).toBe(0);
    await jobs.markFailed(job.id, { code: 'image_corrupt', message: 'bad', refund: false });
    expect(await jobs.findOwned(userId, job.id)).toMatchObject({ status: 'failed', errorCode: 'image_corrupt' });
    expect(await redis.exists(rowKey('job', job.id))).toBe(1);

    const canceled = await newJob(jobs, image);
    await jobs.findOwned(userId, canceled.id);
    await jobs.cancelQueued(userId, canceled.id);
    expect((await jobs.findOwned(userId, canceled.id))!.status).toBe('canceled');
  });

  it("still refuses another user's job or image when the row is cached", async () => {
    const { jobs, images } = repositories();
    const owner = await newUser();
    const other = await newUser();
    const image = await newImage(images, owner);
    const job = await finishedJob(jobs, image);
    expect(await jobs.findOwned(owner, job.id)).not.toBeNull();
    expect(await images.findOwned(owner, image.id)).not.toBeNull();
    expect(await redis.exists(rowKey('job', job.id), rowKey('image', image.id))).toBe(2);
    expect(await jobs.findOwned(other, job.id)).toBeNull();
    expect(await images.findOwned(other, image.id)).toBeNull();
  });

  it('image writes invalidate: setThumbnail, and deleting drops the image and the finished jobs that go with it', async () => {
    const { jobs, images } = repositories();
    const userId = await newUser();
    const image = await newImage(images, userId);
    const done = await finishedJob(jobs, image);
    const pending = await newJob(jobs, image);
    expect((await images.findOwned(userId, image.id))!.thumbnailKey).toBeNull();
    await images.setThumbnail(image.id, 'thumb-key');
    const read = await images.findOwned(userId, image.id);
    expect(read!.thumbnailKey).toBe('thumb-key');
    expect(read!.createdAt).toBeInstanceOf(Date);

    expect(await jobs.findOwned(userId, done.id)).toMatchObject({ status: 'succeeded' });
    const deleted = await deleteImage(jobs, images, userId, image.id);
    expect(deleted.image).toMatchObject({ id: image.id, bytes: 100 });
    expect(deleted.canceled).toEqual([{ id: pending.id, refunded: true }]);
    expect(await images.findOwned(userId, image.id)).toBeNull();
    expect(await jobs.findOwned(userId, done.id)).toBeNull(); // not the cached succeeded row
    expect(await jobs.findOwned(userId, pending.id)).toMatchObject({ status: 'canceled', imageId: null });
  });

  it("a write inside a caller's transaction is invalidated when the transaction commits, not before", async () => {
    const { jobs, images } = repositories();
    const userId = await newUser();
    const image = await newImage(images, userId);
    const job = await finishedJob(jobs, image);
    await images.findOwned(userId, image.id);
    await jobs.findOwned(userId, job.id);

    await ds.transaction(async (em) => {
      await deleteImage(jobs, images, userId, image.id, em);
      // Not committed: other readers still see the rows in PostgreSQL, so the cache must keep them too
      // (invalidating now would let one of them store the old row again after the bump).
      expect(await redis.exists(rowKey('image', image.id), rowKey('job', job.id))).toBe(2);
    });
    expect(await redis.exists(rowKey('image', image.id), rowKey('job', job.id))).toBe(0);
    expect(await images.findOwned(userId, image.id)).toBeNull();
    expect(await jobs.findOwned(userId, job.id)).toBeNull();
  });

  it('a reader that read PostgreSQL before a write cannot store its row after the write invalidated', async () => {
    const { images, cache } = repositories();
    const userId = await newUser();
    const image = await newImage(images, userId);

    // The reader notes the version and reads the row; before it stores, the writer commits and invalidates.
    const stale = await cache.readThrough(
      'image',
      image.id,
      async () => {
        const before = await images.findById(image.id);
        await images.setThumbnail(image.id, 'thumb-key');
        return before;
      },
      (r) => r,
    );
    expect(stale!.thumbnailKey).toBeNull(); // what it read…
    expect(await redis.exists(rowKey('image', image.id))).toBe(0); // …was refused by the compare-and-set
    expect((await images.findOwned(userId, image.id))!.thumbnailKey).toBe('thumb-key');
    expect(await redis.exists(rowKey('image', image.id))).toBe(1);
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

  it('readAll: several rows in one MGET; misses read PostgreSQL and are stored, hits come from Redis, a write is seen', async () => {
    const { cache, jobs, images, derivatives } = repositories();
    const presets = new PresetRepository(ds, cache);
    const userId = await newUser();
    const image = await newImage(images, userId);
    const job = await newJob(jobs, image);
    const derivativeId = await newDerivative(job);
    const client = (cache as unknown as { redis: IORedis }).redis;
    const mget = jest.spyOn(client, 'mget');
    const reads = () =>
      [images.cachedRead(image.id), presets.publicSettingsRead(userId), derivatives.cachedRead(image.id, job.specHash), presets.cachedRead(userId, 'none')] as const;
    try {
      const [img, settings, derivative, missing] = await cache.readAll(reads());
      expect(mget).toHaveBeenCalledTimes(1);
      expect([img?.id, settings, derivative?.id, missing]).toEqual([image.id, { publicUrls: 'any' }, derivativeId, null]);
      expect(await redis.exists(rowKey('image', image.id), rowKey('public-settings', userId), rowKey('derivative-of-spec', `${image.id}:${job.specHash}`))).toBe(3);
      expect(await redis.exists(rowKey('preset', `${userId}:none`))).toBe(0); // absence is never stored

      // Served from Redis: a change behind the cache's back is not seen, dates are revived.
      await ds.query(`UPDATE images SET filename = 'changed.png' WHERE id = $1`, [image.id]);
      const [again] = await cache.readAll(reads());
      expect(mget).toHaveBeenCalledTimes(2);
      expect(again!.filename).toBe('a.png');
      expect(again!.createdAt).toBeInstanceOf(Date);

      // A write through the repository invalidates: the next batch reads it from PostgreSQL.
      await presets.setPublicUrls(userId, 'presets-only');
      expect((await cache.readAll(reads()))[1]).toEqual({ publicUrls: 'presets-only' });
    } finally {
      mget.mockRestore();
    }
  });

  it('READ_CACHE=false reads PostgreSQL every time and stores nothing, but still invalidates on writes', async () => {
    const on = repositories();
    const off = repositories({ READ_CACHE: 'false' });
    const userId = await newUser();
    const image = await newImage(off.images, userId);
    await off.images.findOwned(userId, image.id);
    expect(await redis.exists(rowKey('image', image.id))).toBe(0);
    await on.images.findOwned(userId, image.id);
    expect(await redis.exists(rowKey('image', image.id))).toBe(1);
    await off.images.setThumbnail(image.id, 'thumb-key');
    expect(await redis.exists(rowKey('image', image.id))).toBe(0);
    expect((await on.images.findOwned(userId, image.id))!.thumbnailKey).toBe('thumb-key');
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
      const { cache, jobs, images } = repositories({ REDIS_URL: `redis://127.0.0.1:${port()}/0` });
      const userId = await newUser();
      const image = await newImage(images, userId);
      const job = await newJob(jobs, image);
      expect(await jobs.findOwned(userId, job.id)).toMatchObject({ id: job.id, status: 'queued' });
      expect(await images.findOwned(userId, image.id)).toMatchObject({ id: image.id });
      expect(await jobs.start(job.id, {}, randomUUID(), 60_000)).toMatchObject({ outcome: 'started', job: { status: 'active' } });
      expect(await jobs.findOwned(userId, job.id)).toMatchObject({ status: 'active' });
      await images.setThumbnail(image.id, 'thumb-key');
      expect(await images.findOwned(userId, image.id)).toMatchObject({ thumbnailKey: 'thumb-key' });
      const [batched, missing] = await cache.readAll([images.cachedRead(image.id), images.cachedRead(randomUUID())] as const);
      expect([batched?.thumbnailKey, missing]).toEqual(['thumb-key', null]);
    });
  });
});
