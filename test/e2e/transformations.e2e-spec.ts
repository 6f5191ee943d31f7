import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import sharp from 'sharp';
import {
  expectProblem,
  pollUntil,
  truncatedJpeg,
  exifOrientedJpeg,
  HttpClient,
  jpeg,
  rawMultipart,
  RunningApi,
  startApi,
  startWorkerProcess,
  TEST_DATABASE_URL,
  TestUser,
  uploadForm,
  UserFactory,
  WorkerProcess,
} from '@pixmill/testing';

describe('transformations and jobs (e2e)', () => {
  let api: RunningApi;
  let http: HttpClient;
  let db: Client;

  beforeAll(async () => {
    api = await startApi({ RATE_LIMIT_PER_MINUTE: '100000' });
    http = new HttpClient(api.baseUrl);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await api?.close();
    await db?.end();
  });

  async function uploadImage(user: TestUser, bytes?: Buffer): Promise<string> {
    const res = await user.http.request('POST', '/v1/images', { body: uploadForm(bytes ?? (await jpeg(640, 480)), 'photo.jpg') });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  const rendersOf = async (imageId: string) =>
    (await db.query('SELECT count(*)::int AS n FROM derivatives WHERE image_id = $1', [imageId])).rows[0].n;
  const jobsOf = async (imageId: string) =>
    (await db.query(`SELECT count(*)::int AS n FROM jobs WHERE image_id = $1 AND cached = false`, [imageId])).rows[0].n;

  describe('without a worker (jobs stay queued)', () => {
    it('202 with Location and Retry-After; the job is queued with the canonical spec', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const res = await u.http.post(`/v1/images/${id}/transformations`, {
        operations: [{ op: 'resize', width: 800, height: 600, fit: 'cover' }],
        output: { format: 'webp', quality: 80 },
      });
      expect(res.status).toBe(202);
      expect(res.headers.get('location')).toBe(`/v1/jobs/${res.body.id}`);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body).toMatchObject({ imageId: id, status: 'queued', cached: false, result: null, error: null, attempts: 0 });
      expect(res.body.spec.output.format).toBe('webp');
      const polled = await u.http.get(`/v1/jobs/${res.body.id}`);
      expect(polled.status).toBe(200);
      expect(polled.body.status).toBe('queued');
      expect(polled.headers.get('retry-after')).toBe('1');
    });

    it('20 identical requests racing → one job, one render', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const spec = { operations: [{ op: 'grayscale' }], output: { format: 'png' } };
      const answers = await Promise.all(Array.from({ length: 20 }, () => u.http.post(`/v1/images/${id}/transformations`, spec)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(await jobsOf(id)).toBe(1);
    });

    it('equivalent specs (defaults, key order) share one job', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const a = await u.http.post(`/v1/images/${id}/transformations`, { output: { format: 'jpeg' }, operations: [{ op: 'resize', width: 100 }] });
      const b = await u.http.post(`/v1/images/${id}/transformations`, { operations: [{ width: 100, op: 'resize', fit: 'inside' }], output: { format: 'jpeg' } });
      expect(b.body.id).toBe(a.body.id);
    });

    it('bad specs → 400 listing every bad field, and no job', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const res = await u.http.post(`/v1/images/${id}/transformations`, {
        operations: [{ op: 'resize', width: 0 }, { op: 'explode' }, { op: 'blur', sigma: 500 }],
        output: { format: 'bmp', quality: 101 },
      });
      expectProblem(res, 400, 'validation_failed');
      const fields = res.body.errors.map((e: any) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['operations[0].width', 'operations[1].op', 'operations[2].sigma', 'output.format', 'output.quality']));
      expect(await jobsOf(id)).toBe(0);
    });

    it('a watermark from another user’s image → 400, never a failed job', async () => {
      const a = await new UserFactory(http).create();
      const b = await new UserFactory(http).create();
      const mine = await uploadImage(a);
      const theirs = await uploadImage(b);
      const res = await a.http.post(`/v1/images/${mine}/transformations`, { operations: [{ op: 'watermark', imageId: theirs }] });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'operations[0].imageId', message: expect.any(String) }]);
    });

    it('Idempotency-Key replays the first answer; reused with another spec → 409', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const key = { 'idempotency-key': `k-${Date.now()}` };
      const first = await u.http.post(`/v1/images/${id}/transformations`, { operations: [{ op: 'sepia' }] }, key);
      const again = await u.http.post(`/v1/images/${id}/transformations`, { operations: [{ op: 'sepia' }] }, key);
      expect(again.body.id).toBe(first.body.id);
      expectProblem(await u.http.post(`/v1/images/${id}/transformations`, { operations: [{ op: 'flip' }] }, key), 409, 'idempotency_conflict');
    });

    it('DELETE cancels a queued job once; then 409', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const job = await u.http.post(`/v1/images/${id}/transformations`, { operations: [{ op: 'mirror' }] });
      expect((await u.http.get(`/v1/jobs/${job.body.id}`)).body.status).toBe('queued'); // now in the read cache
      const canceled = await u.http.delete(`/v1/jobs/${job.body.id}`);
      expect(canceled.status).toBe(200);
      expect(canceled.body.status).toBe('canceled');
      expect((await u.http.get(`/v1/jobs/${job.body.id}`)).body.status).toBe('canceled');
      expectProblem(await u.http.delete(`/v1/jobs/${job.body.id}`), 409, 'job_not_cancelable');
    });

    it("deleting an image cancels its pending jobs at once, though they were just read (cache), and gives their quota units back; another user's GET is 404", async () => {
      const u = await new UserFactory(http).create();
      const other = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const job = await u.http.post(`/v1/images/${id}/transformations`, { operations: [{ op: 'flip' }] });
      expect((await u.http.get(`/v1/jobs/${job.body.id}`)).body.status).toBe('queued');
      expect((await u.http.get(`/v1/images/${id}`)).status).toBe(200);
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(1);
      expectProblem(await other.http.get(`/v1/jobs/${job.body.id}`), 404, 'not_found');
      expectProblem(await other.http.get(`/v1/images/${id}`), 404, 'not_found');
      expect((await u.http.delete(`/v1/images/${id}`)).status).toBe(204);
      const after = await u.http.get(`/v1/jobs/${job.body.id}`);
      expect(after.status).toBe(200);
      expect(after.body).toMatchObject({ id: job.body.id, imageId: null, status: 'canceled', result: null, finishedAt: expect.any(String) });
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(0);
      expectProblem(await other.http.get(`/v1/jobs/${job.body.id}`), 404, 'not_found');
      expectProblem(await u.http.get(`/v1/images/${id}`), 404, 'not_found');
      expectProblem(await u.http.delete(`/v1/jobs/${job.body.id}`), 409, 'job_not_cancelable');
    });

    it('GET /v1/jobs filters by image and status and paginates', async () => {
      const u = await new UserFactory(http).create();
      const a = await uploadImage(u);
      const b = await uploadImage(u);
      for (const angle of [10, 20, 30]) await u.http.post(`/v1/images/${a}/transformations`, { operations: [{ op: 'rotate', angle }] });
      await u.http.post(`/v1/images/${b}/transformations`, { operations: [{ op: 'rotate', angle: 40 }] });
      const page1 = await u.http.get(`/v1/jobs?imageId=${a}&limit=2`);
      expect(page1.body.items).toHaveLength(2);
      const page2 = await u.http.get(`/v1/jobs?imageId=${a}&limit=2&cursor=${page1.body.nextCursor}`);
      expect(page2.body.items).toHaveLength(1);
      expect(page2.body.nextCursor).toBeNull();
      expect((await u.http.get('/v1/jobs?status=queued&limit=100')).body.items.length).toBe(4);
      expectProblem(await u.http.get('/v1/jobs?status=nope'), 400, 'validation_failed');
    });

    it('other users get 404 for jobs, transformations and on-the-fly URLs', async () => {
      const a = await new UserFactory(http).create();
      const b = await new UserFactory(http).create();
      const id = await uploadImage(a);
      const job = await a.http.post(`/v1/images/${id}/transformations`, { operations: [{ op: 'flip' }] });
      expectProblem(await b.http.get(`/v1/jobs/${job.body.id}`), 404, 'not_found');
      expectProblem(await b.http.delete(`/v1/jobs/${job.body.id}`), 404, 'not_found');
      expectProblem(await b.http.post(`/v1/images/${id}/transformations`, { operations: [] }), 404, 'not_found');
      expectProblem(await b.http.get(`/v1/images/${id}/transform?resize=10x10&wait=0`), 404, 'not_found');
      expectProblem(await b.http.get(`/v1/images/${id}/derivatives`), 404, 'not_found');
    });

    it('eager specs on upload become queued jobs right after the image; a bad one refuses the upload', async () => {
      const u = await new UserFactory(http).create();
      const eager = JSON.stringify([
        { operations: [{ op: 'resize', width: 256 }], output: { format: 'webp' } },
        { operations: [{ op: 'resize', width: 1024 }], output: { format: 'jpeg' } },
      ]);
      const res = await u.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(640, 480), 'e.jpg', { fields: { eager } }) });
      expect(res.status).toBe(201);
      expect(res.body.eagerJobs).toEqual([
        { jobId: expect.any(String), error: null },
        { jobId: expect.any(String), error: null },
      ]);
      const jobs = await u.http.get(`/v1/jobs?imageId=${res.body.id}`);
      expect(jobs.body.items.map((j: any) => j.status).sort()).toEqual(['queued', 'queued']);

      const bad = JSON.stringify([{ operations: [{ op: 'resize', width: 99999 }] }]);
      const refused = await u.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(64, 48), 'b.jpg', { fields: { eager: bad } }) });
      expectProblem(refused, 400, 'validation_failed');
      expect(refused.body.errors[0].field).toBe('eager[0].operations[0].width');
      expect((await u.http.get('/v1/images')).body.items).toHaveLength(1);
    });

    it('eager is read as a text field, a field sent as application/json, or a JSON part with a file name', async () => {
      const u = await new UserFactory(http).create();
      const specs = [{ operations: [{ op: 'resize', width: 128 }], output: { format: 'webp' } }];
      const json = JSON.stringify(specs);
      const asJsonField = rawMultipart(await jpeg(64, 48), 'a.jpg', 'image/jpeg', [{ name: 'eager', value: json, contentType: 'application/json' }]);
      const asBlob = uploadForm(await jpeg(64, 48), 'b.jpg');
      asBlob.append('eager', new Blob([json], { type: 'application/json' })); // FormData names it "blob": a file part
      for (const [how, body, headers] of [
        ['json field', asJsonField.body, { 'content-type': asJsonField.contentType }],
        ['blob part', asBlob, {}],
      ] as const) {
        const res = await u.http.request('POST', '/v1/images', { body, headers });
        expect({ how, status: res.status, eagerJobs: res.body.eagerJobs }).toEqual({
          how,
          status: 201,
          eagerJobs: [{ jobId: expect.any(String), error: null }],
        });
      }

      const bad = rawMultipart(await jpeg(64, 48), 'c.jpg', 'image/jpeg', [{ name: 'eager', value: '[{', contentType: 'application/json' }]);
      const refused = await u.http.request('POST', '/v1/images', { body: bad.body, headers: { 'content-type': bad.contentType } });
      expectProblem(refused, 400, 'validation_failed');
      const badBlob = uploadForm(await jpeg(64, 48), 'd.jpg');
      badBlob.append('eager', new Blob([JSON.stringify([{ operations: [{ op: 'blur', sigma: 0 }] }])], { type: 'application/json' }));
      const refusedBlob = await u.http.request('POST', '/v1/images', { body: badBlob });
      expectProblem(refusedBlob, 400, 'validation_failed');
      expect(refusedBlob.body.errors[0].field).toBe('eager[0].operations[0].sigma');
      expect((await u.http.get('/v1/images')).body.items).toHaveLength(2);
    });

    it('query syntax errors → 400 naming the key', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const res = await u.http.get(`/v1/images/${id}/transform?resize=abc&bogus=1&wait=0`);
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors.map((e: any) => e.field)).toEqual(expect.arrayContaining(['resize', 'bogus']));
    });
  });

  it('a spec that cannot fit the image is refused at submission (422, no job, no quota unit), as the render would refuse it', async () => {
    const u = await new UserFactory(http).create();
    const id = await uploadImage(u); // 640×480
    const outside = await u.http.post(`/v1/images/${id}/transformations`, { operations: [{ op: 'crop', x: 600, y: 0, width: 100, height: 100 }] });
    expectProblem(outside, 422, 'spec_not_applicable');
    expect(outside.body.detail).toMatch(/outside the 640x480 image/);
    // 640×480 × 400% twice is 10240 px wide: over 8192 a side.
    const huge = { operations: [{ op: 'resize', scale: 400 }, { op: 'resize', scale: 400 }] };
    expectProblem(await u.http.post(`/v1/images/${id}/transformations`, huge), 422, 'image_too_large');
    expectProblem(await u.http.get(`/v1/images/${id}/transform?crop=100x100+600+0&wait=0`), 422, 'spec_not_applicable');
    expect(await jobsOf(id)).toBe(0);
    expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(0);
  });

  it('an animation over MAX_OUTPUT_FRAMES, or over MAX_OUTPUT_PIXELS across its frames, is refused at submission (422, no job, no quota unit); one frame is not', async () => {
    // Submitted to an API with low output limits: at most 3 frames and 3,000 pixels.
    const limited = await startApi({ RATE_LIMIT_PER_MINUTE: '100000', MAX_OUTPUT_FRAMES: '3', MAX_OUTPUT_PIXELS: '3000' });
    try {
      const u = await new UserFactory(http).create();
      const as = new HttpClient(limited.baseUrl, u.accessToken);
      const gifOf = async (count: number, width: number, height: number) => {
        const frames = await Promise.all(
          Array.from({ length: count }, (_, i) => sharp({ create: { width, height, channels: 4, background: ['#ff0000', '#00ff00', '#0000ff'][i % 3] } }).png().toBuffer()),
        );
        const res = await u.http.request('POST', '/v1/images', {
          body: uploadForm(await sharp(frames, { join: { animated: true } }).gif({ delay: Array(count).fill(100), loop: 0 }).toBuffer(), 'anim.gif'),
        });
        expect(res.body).toMatchObject({ format: 'gif', pages: count });
        return res.body.id as string;
      };
      const four = await gifOf(4, 8, 8); // 4 frames, 256 pixels in all
      const three = await gifOf(3, 40, 30); // 3 frames, 3,600 pixels in all

      const tooMany = await as.post(`/v1/images/${four}/transformations`, { output: { format: 'webp' } });
      expectProblem(tooMany, 422, 'image_too_large');
      expect(tooMany.body.detail).toMatch(/4 frames.*at most 3/);
      const tooBig = await as.post(`/v1/images/${three}/transformations`, { output: { format: 'webp' } });
      expectProblem(tooBig, 422, 'image_too_large');
      expect(tooBig.body.detail).toMatch(/3600 pixels/);
      expectProblem(await as.get(`/v1/images/${three}/transform?format=gif&wait=0`), 422, 'image_too_large');
      expect([await jobsOf(four), await jobsOf(three)]).toEqual([0, 0]);
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(0);

      // One frame, or a still format, is one frame: accepted.
      expect((await as.post(`/v1/images/${four}/transformations`, { operations: [{ op: 'frame', index: 3 }], output: { format: 'webp' } })).status).toBe(202);
      expect((await as.post(`/v1/images/${three}/transformations`, { output: { format: 'png' } })).status).toBe(202);
      expect([await jobsOf(four), await jobsOf(three)]).toEqual([1, 1]);
    } finally {
      await limited.close();
    }
  });

  it('an image deleted through another API process: this one, which has seen the image, answers 404 to new transformations and charges nothing', async () => {
    const other = await startApi({ RATE_LIMIT_PER_MINUTE: '100000' });
    try {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      expect((await u.http.post(`/v1/images/${id}/transformations`, { operations: [{ op: 'rotate', angle: 90 }] })).status).toBe(202);
      expect((await new HttpClient(other.baseUrl, u.accessToken).delete(`/v1/images/${id}`)).status).toBe(204);
      expectProblem(await u.http.post(`/v1/images/${id}/transformations`, { operations: [{ op: 'rotate', angle: 180 }] }), 404, 'not_found');
      expectProblem(await u.http.get(`/v1/images/${id}/transform?rotate=270&wait=0`), 404, 'not_found');
      expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(0); // the first job's unit came back with its cancel
    } finally {
      await other.close();
    }
  });

  it('GET /transform of a job canceled while it waits → 409 problem+json job_canceled naming the job', async () => {
    const u = await new UserFactory(http).create();
    const id = await uploadImage(u);
    const waiting = u.http.get(`/v1/images/${id}/transform?rotate=33&wait=3`);
    const queued = await pollUntil(
      async () => (await db.query(`SELECT id FROM jobs WHERE image_id = $1 AND status = 'queued'`, [id])).rows[0]?.id as string | undefined,
      (jobId) => jobId !== undefined,
      10_000,
    );
    expect((await u.http.delete(`/v1/jobs/${queued}`)).status).toBe(200);
    const res = await waiting;
    expectProblem(res, 409, 'job_canceled');
    expect(res.headers.get('location')).toBe(`/v1/jobs/${queued}`);
  });

  describe('with a worker process', () => {
    let worker: WorkerProcess;
    beforeAll(async () => {
      worker = await startWorkerProcess({ STORAGE_LOCAL_DIR: api.config.storage.localDir });
    });
    afterAll(async () => {
      await worker?.stop();
    });

    it('resize 800x600 cover → rotate 90 → grayscale → webp: long-poll until succeeded, URL serves a 600×800 grayscale WebP', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u, await jpeg(1200, 900));
      const sub = await u.http.post(`/v1/images/${id}/transformations`, {
        operations: [{ op: 'resize', width: 800, height: 600, fit: 'cover' }, { op: 'rotate', angle: 90 }, { op: 'grayscale' }],
        output: { format: 'webp', quality: 80 },
      });
      expect(sub.status).toBe(202);
      await u.http.get(`/v1/jobs/${sub.body.id}`); // cached while in flight, so the worker's writes must invalidate it
      const done = await u.http.get(`/v1/jobs/${sub.body.id}?wait=20`);
      expect(done.body).toMatchObject({ status: 'succeeded', progress: 100, result: { width: 600, height: 800, format: 'webp' } });
      expect(done.headers.get('retry-after')).toBeNull();
      const polled = await u.http.get(`/v1/jobs/${sub.body.id}`);
      expect(polled.body).toMatchObject({ status: 'succeeded', progress: 100, result: { derivativeId: done.body.result.derivativeId } });
      const bytes = Buffer.from(await (await fetch(done.body.result.url)).arrayBuffer());
      const meta = await sharp(bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 600, 800]);
      const { channels } = await sharp(bytes).stats();
      expect(Math.abs(channels[0].mean - channels[1].mean)).toBeLessThan(1);
      expect(Math.abs(channels[1].mean - channels[2].mean)).toBeLessThan(1);

      // Same spec again: 200, cached, no new render.
      const again = await u.http.post(`/v1/images/${id}/transformations`, sub.body.spec);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ status: 'succeeded', cached: true, result: { derivativeId: done.body.result.derivativeId } });
      expect(await rendersOf(id)).toBe(1);
      const listed = await u.http.get(`/v1/images/${id}/derivatives`);
      expect(listed.body.items).toHaveLength(1);
      expect(listed.body.items[0]).toMatchObject({ format: 'webp', width: 600, height: 800 });
    });

    it('GET /transform?resize=300x200&format=avif → 302 to a 300×200 AVIF; again → 302 without a new job', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const first = await u.http.get(`/v1/images/${id}/transform?resize=300x200&fit=fill&format=avif`);
      expect(first.status).toBe(302);
      const out = Buffer.from(await (await fetch(first.headers.get('location')!)).arrayBuffer());
      const meta = await sharp(out).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['heif', 300, 200]);
      expect(meta.compression).toBe('av1');
      const rowsBefore = (await db.query('SELECT count(*)::int AS n FROM jobs WHERE image_id = $1', [id])).rows[0].n;
      const second = await u.http.get(`/v1/images/${id}/transform?resize=300x200&fit=fill&format=avif`);
      expect(second.status).toBe(302);
      expect((await db.query('SELECT count(*)::int AS n FROM jobs WHERE image_id = $1', [id])).rows[0].n).toBe(rowsBefore);
    });

    it('GET /transform of a render that fails → problem+json with the job’s error code, naming the job', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      // The stored original goes bad after the upload was validated (local storage: a plain file).
      await writeFile(path.join(api.config.storage.localDir, 'users', u.id, 'images', id, 'original'), await truncatedJpeg());
      const res = await u.http.get(`/v1/images/${id}/transform?grayscale=true&wait=25`);
      expectProblem(res, 422, 'image_corrupt');
      expect(res.headers.get('location')).toMatch(/^\/v1\/jobs\/[0-9a-f-]{36}$/);
      const job = await u.http.get(res.headers.get('location')!);
      expect(job.body).toMatchObject({ status: 'failed', error: { code: 'image_corrupt' } });
    });

    it('crop=100x100 cuts the centre window at full size; a window larger than the image is clamped to it', async () => {
      const u = await new UserFactory(http).create();
      // 800×600 red with a 100×100 green square in the centre
      const input = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#ff0000' } })
        .composite([{ input: { create: { width: 100, height: 100, channels: 3, background: '#00ff00' } }, left: 350, top: 250 }])
        .png()
        .toBuffer();
      const id = await uploadImage(u, input);
      const fetchPng = async (query: string) => {
        const res = await u.http.get(`/v1/images/${id}/transform?${query}&format=png&wait=25`);
        expect(res.status).toBe(302);
        return Buffer.from(await (await fetch(res.headers.get('location')!)).arrayBuffer());
      };
      const centre = await fetchPng('crop=100x100');
      const meta = await sharp(centre).metadata();
      expect([meta.width, meta.height]).toEqual([100, 100]);
      const { channels } = await sharp(centre).stats();
      expect(channels.slice(0, 3).map((c) => [c.min, c.max])).toEqual([[0, 0], [255, 255], [0, 0]]); // all green
      const clamped = await sharp(await fetchPng('crop=1000x100:north')).metadata();
      expect([clamped.width, clamped.height]).toEqual([800, 100]);
      const job = await u.http.post(`/v1/images/${id}/transformations`, {
        operations: [{ op: 'crop', width: 1000, height: 100, gravity: 'north' }],
        output: { format: 'png' },
      });
      expect(job.body).toMatchObject({ status: 'succeeded', cached: true, result: { width: 800, height: 100 } });
    });

    it('auto-orients EXIF-rotated input before the ops', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u, await exifOrientedJpeg(6, 300, 200));
      const res = await u.http.get(`/v1/images/${id}/transform?format=png`);
      expect(res.status).toBe(302);
      const meta = await sharp(Buffer.from(await (await fetch(res.headers.get('location')!)).arrayBuffer())).metadata();
      expect([meta.width, meta.height]).toEqual([200, 300]);
    });

    // Every op of SPEC §4, once in query syntax and once as JSON: both must render.
    const everyOp: Array<[string, string, Record<string, unknown>]> = [
      ['resize', 'resize=200x150&fit=cover', { op: 'resize', width: 200, height: 150, fit: 'cover' }],
      ['resize %', 'resize=50%25', { op: 'resize', scale: 50 }],
      ['crop region', 'crop=100x80%2B10%2B20', { op: 'crop', x: 10, y: 20, width: 100, height: 80 }],
      ['crop attention', 'crop=100x80:attention', { op: 'crop', width: 100, height: 80, gravity: 'attention' }],
      ['rotate', 'rotate=30', { op: 'rotate', angle: 30 }],
      ['flip', 'flip=vertical', { op: 'flip' }],
      ['mirror', 'mirror=true', { op: 'mirror' }],
      ['grayscale', 'grayscale=true', { op: 'grayscale' }],
      ['sepia', 'sepia=true', { op: 'sepia' }],
      ['blur', 'blur=3', { op: 'blur', sigma: 3 }],
      ['sharpen', 'sharpen=true', { op: 'sharpen' }],
      ['modulate', 'brightness=1.2&saturation=0.5', { op: 'modulate', brightness: 1.2, saturation: 0.5 }],
      ['contrast', 'contrast=1.5', { op: 'contrast', factor: 1.5 }],
      ['text watermark', 'watermark=text:Pixmill', { op: 'watermark', text: 'Pixmill' }],
    ];
    it.each(everyOp)('%s works through the query syntax and the JSON spec', async (_name, query, op) => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const viaQuery = await u.http.get(`/v1/images/${id}/transform?${query}&format=png&wait=25`);
      expect(viaQuery.status).toBe(302);
      const viaJson = await u.http.post(`/v1/images/${id}/transformations`, { operations: [op], output: { format: 'png' } });
      expect(viaJson.status).toBe(200); // the same canonical spec: the query's render is a cache hit
      expect(viaJson.body.cached).toBe(true);
      const png = Buffer.from(await (await fetch(viaJson.body.result.url)).arrayBuffer());
      expect((await sharp(png).metadata()).format).toBe('png');
    });

    it('an image watermark from the caller’s own image renders', async () => {
      const u = await new UserFactory(http).create();
      const base = await uploadImage(u);
      const logo = await uploadImage(u, await jpeg(64, 64));
      const res = await u.http.get(`/v1/images/${base}/transform?watermark=image:${logo}&format=jpeg&wait=25`);
      expect(res.status).toBe(302);
    });

    it('a race of 20 identical requests renders once, and all of them see the same succeeded job', async () => {
      const u = await new UserFactory(http).create();
      const id = await uploadImage(u);
      const spec = { operations: [{ op: 'blur', sigma: 2 }], output: { format: 'jpeg' } };
      const answers = await Promise.all(Array.from({ length: 20 }, () => u.http.post(`/v1/images/${id}/transformations`, spec)));
      const ids = new Set(answers.filter((a) => a.status === 202).map((a) => a.body.id));
      expect(ids.size).toBeLessThanOrEqual(1);
      const jobId = answers.find((a) => a.status === 202)?.body.id;
      if (jobId) expect((await u.http.get(`/v1/jobs/${jobId}?wait=20`)).body.status).toBe('succeeded');
      expect(await rendersOf(id)).toBe(1);
      expect(await jobsOf(id)).toBe(1);
    });
  });
});
