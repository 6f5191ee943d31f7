import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import sharp from 'sharp';
import {
  expectProblem,
  HttpClient,
  jpeg,
  png,
  pngWithAlpha,
  RunningApi,
  startApi,
  startWorkerProcess,
  TEST_DATABASE_URL,
  TEST_QUEUE_PREFIX,
  TestUser,
  uploadForm,
  UserFactory,
  WorkerProcess,
} from '@pixmill/testing';

/** Signs a target as SPEC §8 says, independently of the API's own code. */
const sign = (key: string, target: string) =>
  `${target}${target.includes('?') ? '&' : '?'}sig=${createHmac('sha256', key).update(target).digest('base64url')}`;

describe('public image URLs (e2e)', () => {
  let api: RunningApi;
  let http: HttpClient;
  let anonymous: HttpClient;
  let db: Client;
  let worker: WorkerProcess;

  beforeAll(async () => {
    api = await startApi({ RATE_LIMIT_PER_MINUTE: '100000', PUBLIC_RENDERS_PER_MINUTE: '5', PLAN_FREE_DAILY_TRANSFORMS: '3' });
    http = new HttpClient(api.baseUrl);
    anonymous = http.as(undefined);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    worker = await startWorkerProcess({ STORAGE_LOCAL_DIR: api.config.storage.localDir });
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await db?.end();
  });

  async function uploadImage(user: TestUser, bytes?: Buffer): Promise<string> {
    const res = await user.http.request('POST', '/v1/images', { body: uploadForm(bytes ?? (await jpeg(1200, 900)), 'photo.jpg') });
    expect(res.status).toBe(201);
    return res.body.id;
  }
  async function currentKey(user: TestUser): Promise<string> {
    const res = await user.http.get('/v1/url-keys');
    expect(res.status).toBe(200);
    return res.body.keys.find((k: { expiresAt: string | null }) => k.expiresAt === null).key;
  }
  const jobsOf = async (imageId: string) => (await db.query('SELECT count(*)::int AS n FROM jobs WHERE image_id = $1', [imageId])).rows[0].n;
  const pixels = async (url: string) => {
    const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
    const meta = await sharp(bytes).metadata();
    return [meta.format, meta.width, meta.height];
  };

  it('GET /v1/url-keys makes a pmk_ key on first use, the same one after; only for its owner', async () => {
    expectProblem(await anonymous.get('/v1/url-keys'), 401, 'unauthorized');
    const u = await new UserFactory(http).create();
    const first = await u.http.get('/v1/url-keys');
    expect(first.body.keys).toEqual([{ id: expect.any(String), key: expect.stringMatching(/^pmk_[A-Za-z0-9_-]{43}$/), createdAt: expect.any(String), expiresAt: null }]);
    expect((await u.http.get('/v1/url-keys')).body).toEqual(first.body);
    const other = await new UserFactory(http).create();
    expect((await other.http.get('/v1/url-keys')).body.keys[0].key).not.toBe(first.body.keys[0].key);
    // At rest the key is not in the clear.
    const stored = (await db.query('SELECT key_ciphertext FROM url_keys WHERE user_id = $1', [u.id])).rows[0].key_ciphertext;
    expect(stored).not.toContain(first.body.keys[0].key.slice(4));
  });

  it('an unauthenticated fetch of a signed URL follows to the right pixels; again → the same derivative, no new job', async () => {
    const u = await new UserFactory(http).plan('pro').create();
    const id = await uploadImage(u);
    const url = sign(await currentKey(u), `/i/${id}?resize=300x200&fit=fill&format=webp`);
    const first = await anonymous.get(url);
    expect(first.status).toBe(302);
    const maxAge = Number(/^public, max-age=(\d+)$/.exec(first.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(api.config.storage.deliveryUrlTtlSeconds);
    expect(first.headers.get('vary')).toBeNull();
    // Followed, as an <img> does.
    const followed = await fetch(`${api.baseUrl}${url}`);
    expect(followed.status).toBe(200);
    const meta = await sharp(Buffer.from(await followed.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 300, 200]);
    expect(await jobsOf(id)).toBe(1);
    const again = await anonymous.get(url);
    expect(again.status).toBe(302);
    expect(await jobsOf(id)).toBe(1);
  });

  it('tampered, unsigned, another account’s key, unknown image → 403 signature_invalid; nothing rendered', async () => {
    const u = await new UserFactory(http).plan('pro').create();
    const id = await uploadImage(u);
    const key = await currentKey(u);
    const good = sign(key, `/i/${id}?resize=100x100`);
    expectProblem(await anonymous.get(good.replace('100x100', '100x101')), 403, 'signature_invalid');
    expectProblem(await anonymous.get(`/i/${id}?resize=100x100`), 403, 'signature_invalid');
    expectProblem(await anonymous.get(`${good}&x=1`), 403, 'signature_invalid'); // sig not last
    const stranger = await new UserFactory(http).create();
    expectProblem(await anonymous.get(sign(await currentKey(stranger), `/i/${id}?resize=100x100`)), 403, 'signature_invalid');
    const unknown = '00000000-0000-4000-8000-000000000000';
    const res = await anonymous.get(sign(key, `/i/${unknown}?resize=100x100`));
    expectProblem(res, 403, 'signature_invalid');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await jobsOf(id)).toBe(0);
  });

  it('past exp → 403 url_expired; a future exp works and caps max-age; bad options → 400', async () => {
    const u = await new UserFactory(http).plan('pro').create();
    const id = await uploadImage(u);
    const key = await currentKey(u);
    const past = Math.floor(Date.now() / 1000) - 5;
    expectProblem(await anonymous.get(sign(key, `/i/${id}?resize=100x100&exp=${past}`)), 403, 'url_expired');
    expectProblem(await anonymous.get(sign(key, `/i/${id}?resize=banana`)), 400, 'validation_failed');
    expectProblem(await anonymous.get(sign(key, `/i/${id}?resize=100x100&dpr=9`)), 400, 'validation_failed');
    expectProblem(await anonymous.get(sign(key, `/i/${id}?resize=100x100&wait=1`)), 400, 'validation_failed');
    expect(await jobsOf(id)).toBe(0);
    const soon = Math.floor(Date.now() / 1000) + 120;
    const ok = await anonymous.get(sign(key, `/i/${id}?resize=100x100&exp=${soon}`));
    expect(ok.status).toBe(302);
    expect(Number(/max-age=(\d+)/.exec(ok.headers.get('cache-control')!)![1])).toBeLessThanOrEqual(120);
  });

  it('format=auto: Accept avif / webp / jpeg → three formats, each its own derivative, with Vary: Accept', async () => {
    const u = await new UserFactory(http).plan('pro').create();
    const id = await uploadImage(u);
    const url = sign(await currentKey(u), `/i/${id}?resize=200x150&format=auto`);
    const got: unknown[] = [];
    for (const accept of ['image/avif,image/webp,*/*;q=0.8', 'image/webp,*/*', 'image/jpeg,*/*;q=0.5']) {
      const res = await anonymous.get(url, { accept });
      expect(res.status).toBe(302);
      expect(res.headers.get('vary')).toBe('Accept');
      got.push(await pixels(res.headers.get('location')!));
    }
    expect(got).toEqual([
      ['heif', 200, 150],
      ['webp', 200, 150],
      ['jpeg', 200, 150],
    ]);
    expect((await db.query('SELECT count(*)::int AS n FROM derivatives WHERE image_id = $1', [id])).rows[0].n).toBe(3);
  });

  it('format=auto without AVIF or WebP in Accept: an opaque PNG → JPEG, a PNG with alpha → PNG that keeps its transparency', async () => {
    const u = await new UserFactory(http).plan('pro').create();
    const key = await currentKey(u);
    const opaque = await uploadImage(u, await png(400, 300));
    const clear = await uploadImage(u, await pngWithAlpha(400, 300));
    const hasAlpha = async (id: string) => (await db.query('SELECT has_alpha FROM images WHERE id = $1', [id])).rows[0].has_alpha;
    expect([await hasAlpha(opaque), await hasAlpha(clear)]).toEqual([false, true]);
    const accept = 'image/png,image/jpeg,*/*;q=0.5';
    const flat = await anonymous.get(sign(key, `/i/${opaque}?resize=200x150&format=auto`), { accept });
    expect(flat.status).toBe(302);
    expect(flat.headers.get('vary')).toBe('Accept');
    expect(await pixels(flat.headers.get('location')!)).toEqual(['jpeg', 200, 150]);
    const transparent = await anonymous.get(sign(key, `/i/${clear}?resize=200x150&format=auto`), { accept });
    expect(transparent.status).toBe(302);
    const bytes = Buffer.from(await (await fetch(transparent.headers.get('location')!)).arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height, meta.hasAlpha]).toEqual(['png', 200, 150, true]);
    // The right half stays transparent, the left half opaque.
    const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const alphaAt = (x: number, y: number) => data[(y * info.width + x) * info.channels + 3];
    expect([alphaAt(20, 75), alphaAt(180, 75)]).toEqual([255, 0]);
    // A browser that takes WebP still gets WebP, alpha or not.
    const webpAnswer = await anonymous.get(sign(key, `/i/${clear}?resize=200x150&format=auto`), { accept: 'image/webp,*/*' });
    expect((await pixels(webpAnswer.headers.get('location')!))[0]).toBe('webp');
  });

  it('dpr=2 doubles the sizes, not beyond the input', async () => {
    const u = await new UserFactory(http).plan('pro').create();
    const id = await uploadImage(u);
    const key = await currentKey(u);
    const res = await anonymous.get(sign(key, `/i/${id}?resize=300x200&fit=fill&format=png&dpr=2`));
    expect(res.status).toBe(302);
    expect(await pixels(res.headers.get('location')!)).toEqual(['png', 600, 400]);
    const capped = await anonymous.get(sign(key, `/i/${id}?resize=800x&format=png&dpr=4`));
    expect(await pixels(capped.headers.get('location')!)).toEqual(['png', 1200, 900]);
  });

  it('rotation: a new key signs at once, the previous one for 24 h, then no longer', async () => {
    const u = await new UserFactory(http).plan('pro').create();
    const id = await uploadImage(u);
    const old = await currentKey(u);
    const rotated = await u.http.post('/v1/url-keys/rotate');
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ key: expect.stringMatching(/^pmk_/), expiresAt: null });
    const listed = (await u.http.get('/v1/url-keys')).body.keys;
    expect(listed.map((k: { key: string }) => k.key)).toEqual([rotated.body.key, old]);
    const hours = (Date.parse(listed[1].expiresAt) - Date.now()) / 3600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    expect((await anonymous.get(sign(old, `/i/${id}?grayscale=true`))).status).toBe(302);
    expect((await anonymous.get(sign(rotated.body.key, `/i/${id}?grayscale=true`))).status).toBe(302);
    // The 24 h have passed: the old key stops signing (the next rotation refreshes the cached list).
    await db.query(`UPDATE url_keys SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND expires_at IS NOT NULL`, [u.id]);
    const third = (await u.http.post('/v1/url-keys/rotate')).body.key;
    expectProblem(await anonymous.get(sign(old, `/i/${id}?grayscale=true`)), 403, 'signature_invalid');
    expect((await anonymous.get(sign(rotated.body.key, `/i/${id}?grayscale=true`))).status).toBe(302);
    expect((await anonymous.get(sign(third, `/i/${id}?grayscale=true`))).status).toBe(302);
  });

  describe('with a second API process (keys and image facts are kept per process)', () => {
    let other: RunningApi;
    beforeAll(async () => {
      other = await startApi({ RATE_LIMIT_PER_MINUTE: '100000', PUBLIC_RENDERS_PER_MINUTE: '5', PLAN_FREE_DAILY_TRANSFORMS: '3', STORAGE_LOCAL_DIR: api.config.storage.localDir });
    });
    afterAll(async () => {
      await other?.close();
    });

    it('a key rotated through the other process signs here at once; the replaced key still signs', async () => {
      const u = await new UserFactory(http).plan('pro').create();
      const id = await uploadImage(u);
      const old = await currentKey(u);
      const url = (key: string) => sign(key, `/i/${id}?resize=64x48&format=png`);
      expect((await anonymous.get(url(old))).status).toBe(302); // this process now remembers the old key
      const rotated = await new HttpClient(other.baseUrl).as(u.accessToken).post('/v1/url-keys/rotate');
      expect(rotated.status).toBe(201);
      const fresh = await anonymous.get(url(rotated.body.key));
      expect(fresh.status).toBe(302);
      expect((await anonymous.get(url(old))).status).toBe(302);
      expectProblem(await anonymous.get(url(old).replace('64x48', '64x49')), 403, 'signature_invalid');
    });

    it('an image deleted through the other process answers 403 here, though this process remembers it', async () => {
      const u = await new UserFactory(http).plan('pro').create();
      const id = await uploadImage(u);
      const url = sign(await currentKey(u), `/i/${id}?resize=64x48&format=png`);
      expect((await anonymous.get(url)).status).toBe(302);
      expect((await anonymous.get(url)).status).toBe(302); // a cache hit
      expect((await new HttpClient(other.baseUrl).as(u.accessToken).delete(`/v1/images/${id}`)).status).toBe(204);
      const gone = await anonymous.get(url);
      expectProblem(gone, 403, 'signature_invalid');
      expect(gone.headers.get('cache-control')).toBe('no-store');
    });
  });

  it('new renders count against the owner’s daily quota; cache hits do not', async () => {
    const u = await new UserFactory(http).create(); // free: 3 a day here
    const id = await uploadImage(u);
    const key = await currentKey(u);
    const first = sign(key, `/i/${id}?resize=10x10`);
    for (const size of ['10x10', '20x20', '30x30']) expect((await anonymous.get(sign(key, `/i/${id}?resize=${size}`))).status).toBe(302);
    const over = await anonymous.get(sign(key, `/i/${id}?resize=40x40`));
    expectProblem(over, 429, 'daily_quota_exceeded');
    expect(over.headers.get('retry-after')).toEqual(expect.any(String));
    for (let i = 0; i < 5; i++) expect((await anonymous.get(first)).status).toBe(302);
    expect((await u.http.get('/v1/me')).body.usage.transformsToday).toBe(3);
  });

  it('new renders count against PUBLIC_RENDERS_PER_MINUTE per owner; cache hits do not', async () => {
    const u = await new UserFactory(http).plan('pro').create();
    const id = await uploadImage(u);
    const key = await currentKey(u);
    for (let angle = 1; angle <= 5; angle++) expect((await anonymous.get(sign(key, `/i/${id}?rotate=${angle}&format=png`))).status).toBe(302);
    const limited = await anonymous.get(sign(key, `/i/${id}?rotate=6&format=png`));
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await jobsOf(id)).toBe(5);
    for (let i = 0; i < 10; i++) expect((await anonymous.get(sign(key, `/i/${id}?rotate=1&format=png`))).status).toBe(302);
    // Another owner's budget is their own.
    const v = await new UserFactory(http).plan('pro').create();
    const vid = await uploadImage(v);
    expect((await anonymous.get(sign(await currentKey(v), `/i/${vid}?rotate=6&format=png`))).status).toBe(302);
  });

  describe('presets', () => {
    const square = { operations: [{ op: 'crop', width: 400, height: 400 }], output: { format: 'webp', quality: 70 } };

    it('CRUD: 201, list, get, 409 on a taken name, 400 on a bad spec or name, PUT replaces, DELETE → 404 after; another user sees none', async () => {
      const u = await new UserFactory(http).create();
      const created = await u.http.post('/v1/presets', { name: 'square', spec: square });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'square', spec: square });
      expectProblem(await u.http.post('/v1/presets', { name: 'square', spec: square }), 409, 'conflict');
      expectProblem(await u.http.post('/v1/presets', { name: 'Bad Name', spec: square }), 400, 'validation_failed');
      const bad = await u.http.post('/v1/presets', { name: 'bad', spec: { operations: [{ op: 'resize', width: 0 }] } });
      expectProblem(bad, 400, 'validation_failed');
      expect(bad.body.errors[0].field).toMatch(/^spec\.operations\[0\]/);
      expect((await u.http.get('/v1/presets')).body.items.map((p: { name: string }) => p.name)).toEqual(['square']);
      const put = await u.http.request('PUT', '/v1/presets/square', { json: { spec: { operations: [{ op: 'grayscale' }] } } });
      expect(put.status).toBe(200);
      expect((await u.http.get('/v1/presets/square')).body.spec).toEqual({ operations: [{ op: 'grayscale' }], output: {} });
      const stranger = await new UserFactory(http).create();
      expectProblem(await stranger.http.get('/v1/presets/square'), 404, 'not_found');
      expect((await u.http.delete('/v1/presets/square')).status).toBe(204);
      expectProblem(await u.http.get('/v1/presets/square'), 404, 'not_found');
    });

    it('preset= in a public URL and in the query syntax, "preset" in a JSON spec: its operations first, its output unless the request sets one', async () => {
      const u = await new UserFactory(http).plan('pro').create();
      const id = await uploadImage(u);
      await u.http.post('/v1/presets', { name: 'square', spec: square });
      const key = await currentKey(u);
      const viaPublic = await anonymous.get(sign(key, `/i/${id}?preset=square&resize=100x`));
      expect(viaPublic.status).toBe(302);
      expect(await pixels(viaPublic.headers.get('location')!)).toEqual(['webp', 100, 100]);
      const overridden = await anonymous.get(sign(key, `/i/${id}?preset=square&format=png`));
      expect(await pixels(overridden.headers.get('location')!)).toEqual(['png', 400, 400]);
      // The same render through the authenticated query syntax: a cache hit.
      const viaQuery = await u.http.get(`/v1/images/${id}/transform?preset=square&resize=100x`);
      expect(viaQuery.status).toBe(302);
      const viaJson = await u.http.post(`/v1/images/${id}/transformations`, { preset: 'square', operations: [{ op: 'resize', width: 100 }] });
      expect(viaJson.status).toBe(200);
      expect(viaJson.body).toMatchObject({ cached: true, spec: { operations: [{ op: 'crop' }, { op: 'resize', width: 100 }], output: { format: 'webp', quality: 70 } } });
      expectProblem(await u.http.post(`/v1/images/${id}/transformations`, { preset: 'nope' }), 400, 'validation_failed');
      expectProblem(await anonymous.get(sign(key, `/i/${id}?preset=nope`)), 400, 'validation_failed');
    });

    it('"preset" in an eager spec (multipart and direct upload): its operations first, its output unless the spec sets one; an unknown one refuses the upload', async () => {
      const u = await new UserFactory(http).plan('pro').create();
      await u.http.post('/v1/presets', { name: 'square', spec: square });
      const eager = JSON.stringify([{ preset: 'square' }, { preset: 'square', operations: [{ op: 'resize', width: 100 }], output: { format: 'png' } }]);
      const res = await u.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(1200, 900), 'e.jpg', { fields: { eager } }) });
      expect(res.status).toBe(201);
      expect(res.body.eagerJobs).toEqual([
        { jobId: expect.any(String), error: null },
        { jobId: expect.any(String), error: null },
      ]);
      const rendered: unknown[] = [];
      for (const { jobId } of res.body.eagerJobs) {
        const job = await u.http.get(`/v1/jobs/${jobId}?wait=30`);
        expect(job.body.status).toBe('succeeded');
        rendered.push([job.body.spec.operations.map((o: { op: string }) => o.op), ...(await pixels(job.body.result.url))]);
      }
      expect(rendered).toEqual([
        [['crop'], 'webp', 400, 400],
        [['crop', 'resize'], 'png', 100, 100],
      ]);

      // Refused before anything is stored: 400 naming the item, no image, no job.
      const before = (await db.query('SELECT count(*)::int AS n FROM images WHERE user_id = $1', [u.id])).rows[0].n;
      const unknown = JSON.stringify([{ operations: [] }, { preset: 'nope' }]);
      const refused = await u.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(64, 48), 'b.jpg', { fields: { eager: unknown } }) });
      expectProblem(refused, 400, 'validation_failed');
      expect(refused.body.errors.map((e: { field: string }) => e.field)).toEqual(['eager[1].preset']);
      expect((await db.query('SELECT count(*)::int AS n FROM images WHERE user_id = $1', [u.id])).rows[0].n).toBe(before);

      // A direct upload takes the same eager items.
      const direct = await u.http.post('/v1/uploads', { filename: 'd.jpg', contentType: 'image/jpeg', bytes: 10_000, eager: [{ preset: 'nope' }] });
      expectProblem(direct, 400, 'validation_failed');
      expect(direct.body.errors.map((e: { field: string }) => e.field)).toEqual(['eager[0].preset']);
    });

    it('publicUrls: presets-only lets /i/ take only preset (plus format=auto, dpr); the authenticated routes are unchanged', async () => {
      const u = await new UserFactory(http).plan('pro').create();
      const id = await uploadImage(u);
      await u.http.post('/v1/presets', { name: 'square', spec: square });
      const key = await currentKey(u);
      expect((await u.http.get('/v1/me')).body.publicUrls).toBe('any');
      expectProblem(await u.http.request('PATCH', '/v1/me', { json: { publicUrls: 'some' } }), 400, 'validation_failed');
      const patched = await u.http.request('PATCH', '/v1/me', { json: { publicUrls: 'presets-only' } });
      expect(patched.status).toBe(200);
      expect(patched.body.publicUrls).toBe('presets-only');
      expectProblem(await anonymous.get(sign(key, `/i/${id}?resize=50x50`)), 403, 'presets_only');
      expectProblem(await anonymous.get(sign(key, `/i/${id}?preset=square&resize=50x50`)), 403, 'presets_only');
      expectProblem(await anonymous.get(sign(key, `/i/${id}`)), 403, 'presets_only');
      const ok = await anonymous.get(sign(key, `/i/${id}?preset=square&format=auto&dpr=1.5`), { accept: 'image/webp' });
      expect(ok.status).toBe(302);
      expect(ok.headers.get('vary')).toBe('Accept');
      expect(await pixels(ok.headers.get('location')!)).toEqual(['webp', 600, 600]);
      expect(await jobsOf(id)).toBe(1);
      expect((await u.http.get(`/v1/images/${id}/transform?resize=50x50`)).status).toBe(302);
      await u.http.request('PATCH', '/v1/me', { json: { publicUrls: 'any' } });
      expect((await anonymous.get(sign(key, `/i/${id}?resize=50x50`))).status).toBe(302);
    });
  });

  it('GET /v1/images/{id}/srcset → signed src, srcset (… 320w, … 640w) and an <img> tag whose URLs render those widths', async () => {
    const u = await new UserFactory(http).plan('pro').create();
    const id = await uploadImage(u);
    const res = await u.http.get(`/v1/images/${id}/srcset?widths=640,320&format=webp`);
    expect(res.status).toBe(200);
    const entries = res.body.srcset.split(', ').map((e: string) => e.split(' '));
    expect(entries.map((e: string[]) => e[1])).toEqual(['320w', '640w']);
    expect(res.body.src).toBe(entries[1][0]);
    expect(res.body.sizes).toBe('(max-width: 640px) 100vw, 640px');
    expect(res.body.html).toContain('<img src="');
    for (const [url, w] of entries) {
      expect(url.startsWith(`${api.baseUrl}/i/${id}?`)).toBe(true);
      const followed = await fetch(url);
      const meta = await sharp(Buffer.from(await followed.arrayBuffer())).metadata();
      expect([meta.format, meta.width]).toEqual(['webp', Number(w.slice(0, -1))]);
    }
    expectProblem(await u.http.get(`/v1/images/${id}/srcset?widths=0`), 400, 'validation_failed');
    expectProblem(await u.http.get(`/v1/images/${id}/srcset?widths=320&blur=banana`), 400, 'validation_failed');
    const stranger = await new UserFactory(http).create();
    expectProblem(await stranger.http.get(`/v1/images/${id}/srcset?widths=320`), 404, 'not_found');
  });

  describe('a render not done within the wait', () => {
    // An API of its own on a queue no worker consumes (yet), waiting 1 s instead of 10.
    const queuePrefix = TEST_QUEUE_PREFIX.replace('}', '-no-worker}');
    let slowApi: RunningApi;
    let lateWorker: WorkerProcess | undefined;
    beforeAll(async () => {
      slowApi = await startApi({ QUEUE_PREFIX: queuePrefix, PUBLIC_RENDER_WAIT_SECONDS: '1', RATE_LIMIT_PER_MINUTE: '100000' });
    });
    afterAll(async () => {
      await lateWorker?.stop();
      await slowApi?.close();
    });

    it('→ 503 rendering with Retry-After, problem+json, not stored by a CDN; the queued render answers 302 once a worker has done it, with no second job', async () => {
      const slowHttp = new HttpClient(slowApi.baseUrl);
      const u = await new UserFactory(slowHttp).plan('pro').create();
      const res = await u.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(640, 480), 'photo.jpg') });
      expect(res.status).toBe(201);
      const id = res.body.id;
      const url = sign(await currentKey(u), `/i/${id}?resize=320x240&format=webp`);
      const started = Date.now();
      const busy = await slowHttp.as(undefined).get(url);
      expectProblem(busy, 503, 'rendering');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(busy.headers.get('cache-control')).toBe('no-store');
      expect(busy.headers.get('location')).toBeNull();
      // Asking again while it waits for a worker reuses the queued job.
      expectProblem(await slowHttp.as(undefined).get(url), 503, 'rendering');
      expect(await jobsOf(id)).toBe(1);

      lateWorker = await startWorkerProcess({ QUEUE_PREFIX: queuePrefix, STORAGE_LOCAL_DIR: slowApi.config.storage.localDir });
      let done = busy;
      for (let i = 0; i < 60 && done.status !== 302; i++) {
        await new Promise((r) => setTimeout(r, 500));
        done = await slowHttp.as(undefined).get(url);
      }
      expect(done.status).toBe(302);
      expect(await pixels(done.headers.get('location')!)).toEqual(['webp', 320, 240]);
      expect(await jobsOf(id)).toBe(1);
    });
  });
});
