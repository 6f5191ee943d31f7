import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { thumbHashToAverageRGBA } from 'thumbhash';
import {
  postImage,
  waitForThumbnail,
  expectProblem,
  animatedGif,
  animatedWebp,
  avif,
  bigJpeg,
  exifOrientedJpeg,
  gif,
  heic,
  irot,
  HttpClient,
  HttpResponse,
  jpeg,
  jpegWithGps,
  png,
  pngClaiming,
  rawMultipart,
  RunningApi,
  sha256,
  startApi,
  startWorkerProcess,
  StorageInspector,
  svg,
  textFile,
  tiff,
  withImageCopies,
  withPrimaryProperties,
  TestUser,
  truncatedJpeg,
  UserFactory,
  webp,
  WorkerProcess,
} from '@pixmill/testing';

/**
 * Images end to end with the local storage driver: the real API in-process, a real worker
 * process sharing its storage directory, PostgreSQL and Redis. Storage and the database are
 * inspected directly to prove that what the API says matches what is stored.
 */
/** RGB(A) of one pixel of an encoded image. */
async function samplePixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [...data.subarray(i, i + info.channels)];
}

describe('images (e2e, local storage)', () => {
  const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  /** Tests here are not about rate limits; polling for thumbnails must not trip them. */
  const NO_RATE_LIMITS = { RATE_LIMIT_PER_MINUTE: '1000000', AUTH_RATE_LIMIT_PER_MINUTE: '1000000' };

  let api: RunningApi;
  let worker: WorkerProcess;
  let http: HttpClient;
  let inspect: StorageInspector;

  beforeAll(async () => {
    api = await startApi(NO_RATE_LIMITS);
    worker = await startWorkerProcess({ STORAGE_LOCAL_DIR: api.config.storage.localDir });
    http = new HttpClient(api.baseUrl);
    inspect = StorageInspector.local(api.config.storage.localDir);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await inspect?.close();
  });

  const newUser = () => new UserFactory(http).create();

  const upload = postImage;

  const thumbnailOf = (client: HttpClient, id: string) => waitForThumbnail(client, id, worker);

  /** Nothing stored for this user: no object, no stray temp file, no row, no bytes reserved. */
  const expectNothingStored = async (user: TestUser) => {
    expect(await inspect.leftovers(`users/${user.id}/`)).toEqual([]);
    expect(await inspect.accounting(user.id)).toEqual({ imageRows: 0, storageBytes: 0 });
  };

  describe('POST /v1/images', () => {
    const stills: Array<[string, () => Promise<Buffer>, string]> = [
      ['jpeg', () => jpeg(), 'image/jpeg'],
      ['png', () => png(), 'image/png'],
      ['webp', () => webp(), 'image/webp'],
      ['avif', () => avif(), 'image/avif'],
      ['tiff', () => tiff(), 'image/tiff'],
      ['gif', () => gif(), 'image/gif'],
    ];

    it.each(stills)('accepts %s (type decided by content, not name or declared type) → 201', async (format, make, mimeType) => {
      const user = await newUser();
      const bytes = await make();
      const res = await upload(user.http, bytes, 'upload.bin', 'application/octet-stream');
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID),
        filename: 'upload.bin',
        format,
        mimeType,
        width: 320,
        height: 240,
        bytes: bytes.length,
        pages: 1,
        sha256: sha256(bytes),
        exif: null, // sharp wrote no EXIF into these fixtures
        createdAt: expect.any(String),
        // null until the worker has rendered it; a racing fast worker may already have.
        urls: { original: expect.any(String), thumbnail: res.body.urls?.thumbnail === null ? null : expect.any(String) },
        placeholder: res.body.placeholder === null ? null : expect.any(Object),
      });
      expect(Date.parse(res.body.createdAt)).not.toBeNaN();
      const key = `users/${user.id}/images/${res.body.id}/original`;
      const original = new URL(res.body.urls.original);
      expect(`${original.origin}${original.pathname}`).toBe(`${api.baseUrl}/files/${key}`);
      expect(original.searchParams.get('expires')).toMatch(/^\d+$/);
      expect(original.searchParams.get('sig')).toMatch(/^[0-9a-f]{64}$/);
      // What is stored is exactly what was sent, typed by its content (the client declared octet-stream).
      expect(await inspect.objects(key)).toEqual([key]);
      expect(sha256(await inspect.driver.getBuffer(key))).toBe(sha256(bytes));
      expect((await inspect.driver.head(key))?.contentType).toBe(mimeType);
      expect(await inspect.accounting(user.id)).toEqual({ imageRows: 1, storageBytes: bytes.length });
    });

    it('accepts an animated GIF and counts its frames', async () => {
      const user = await newUser();
      const bytes = await animatedGif(5, 64, 48);
      const res = await upload(user.http, bytes, 'anim.gif', 'image/gif');
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ format: 'gif', mimeType: 'image/gif', width: 64, height: 48, pages: 5, bytes: bytes.length });
    });

    it('accepts an animated WebP and counts its frames', async () => {
      const user = await newUser();
      const bytes = await animatedWebp(4, 64, 48);
      const res = await upload(user.http, bytes, 'anim.webp', 'image/webp');
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ format: 'webp', mimeType: 'image/webp', width: 64, height: 48, pages: 4 });
    });

    it.each([
      [1, 300, 200],
      [3, 300, 200],
      [6, 200, 300],
      [8, 200, 300],
    ])('reports the displayed size of a JPEG with EXIF orientation %i (%ix%i)', async (orientation, width, height) => {
      const user = await newUser();
      const bytes = await exifOrientedJpeg(orientation, 300, 200);
      const res = await upload(user.http, bytes, 'phone.jpg', 'image/jpeg');
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ format: 'jpeg', width, height, sha256: sha256(bytes) });
    });

    it('sanitises the file name: no directory part, no control characters', async () => {
      const user = await newUser();
      const { body, contentType } = rawMultipart(await jpeg(), '../../etc/pa\u0001sswd.jpg');
      const res = await user.http.request('POST', '/v1/images', { body, headers: { 'content-type': contentType } });
      expect(res.status).toBe(201);
      const name: string = res.body.filename;
      expect(name).toMatch(/^pa ?sswd\.jpg$/);
      expect(name).not.toMatch(/[/\\]/);
      expect(name.startsWith('..')).toBe(false);
      expect(name).not.toMatch(/[\u0000-\u001f\u007f]/);
      // The key never comes from the name.
      // (The worker may already have written the thumbnail next to it.)
      const keys = await inspect.objects(`users/${user.id}/`);
      expect(keys).toContain(`users/${user.id}/images/${res.body.id}/original`);
      expect(keys.filter((k) => !k.startsWith(`users/${user.id}/images/${res.body.id}/derivatives/`))).toEqual([
        `users/${user.id}/images/${res.body.id}/original`,
      ]);
    });

    it('shows the owner the camera EXIF; the thumbnail (a derivative) carries no EXIF, so no GPS', async () => {
      // SPEC: GPS is never returned to others and is stripped from derivatives. Images are only
      // visible to their owner (see isolation), so the derivative is where it could leak.
      const user = await newUser();
      const res = await upload(user.http, await jpegWithGps(), 'paris.jpg', 'image/jpeg');
      expect(res.status).toBe(201);
      expect(JSON.stringify(res.body.exif)).toContain('PixmillCam');
      const thumb = await fetch(await thumbnailOf(user.http, res.body.id));
      const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
      expect(meta.format).toBe('webp');
      expect(meta.exif).toBeUndefined();
    });

    it('refuses two file parts in one upload → 400 validation_failed, leaving nothing behind', async () => {
      const user = await newUser();
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(await jpeg())]), 'a.jpg');
      form.append('file', new Blob([new Uint8Array(await png())]), 'b.png');
      expectProblem(await user.http.request('POST', '/v1/images', { body: form }), 400, 'validation_failed');
      await expectNothingStored(user);
    });

    it('needs a valid access token', async () => {
      const bytes = await jpeg();
      expectProblem(await upload(http, bytes, 'a.jpg'), 401, 'unauthorized');
      expectProblem(await upload(http.as('not-a-token'), bytes, 'a.jpg'), 401, 'unauthorized');
    });

    /** Every rejected upload: the right problem, and nothing left behind in storage or the database. */
    const rejected: Array<[string, number, string, (u: TestUser) => Promise<HttpResponse>]> = [
      ['no file part', 400, 'validation_failed', (u) => {
        const form = new FormData();
        form.append('webhookUrl', 'https://hooks.example.com/pixmill');
        return u.http.request('POST', '/v1/images', { body: form });
      }],
      ['a JSON body instead of multipart', 400, 'validation_failed', (u) => u.http.post('/v1/images', { file: 'aGVsbG8=' })],
      ['a file over MAX_UPLOAD_BYTES (11 MiB)', 413, 'file_too_large', async (u) => upload(u.http, await bigJpeg(11 * 1024 * 1024), 'big.jpg', 'image/jpeg')],
      ['a file one byte over MAX_UPLOAD_BYTES', 413, 'file_too_large', async (u) => upload(u.http, await bigJpeg(MAX_UPLOAD_BYTES + 1), 'big.jpg', 'image/jpeg')],
      ['a text file named .jpg and declared image/jpeg', 415, 'unsupported_media_type', (u) => upload(u.http, textFile(), 'x.jpg', 'image/jpeg')],
      ['an SVG', 415, 'unsupported_media_type', (u) => upload(u.http, svg(), 'logo.svg', 'image/svg+xml')],
      ['a PNG whose header claims 60000×60000 pixels', 422, 'image_too_large', async (u) => upload(u.http, await pngClaiming(60000, 60000), 'bomb.png', 'image/png')],
      ['an animated GIF of 101 frames', 422, 'image_too_large', async (u) => upload(u.http, await animatedGif(101, 8, 8), 'long.gif', 'image/gif')],
      ['a truncated JPEG', 422, 'image_corrupt', async (u) => upload(u.http, await truncatedJpeg(), 'half.jpg', 'image/jpeg')],
    ];

    it.each(rejected)('refuses %s → %i %s, leaving nothing behind', async (_what, status, code, send) => {
      const user = await newUser();
      expectProblem(await send(user), status, code);
      await expectNothingStored(user);
      // The account still works afterwards, and its quota was not eaten.
      const ok = await upload(user.http, await jpeg(), 'after.jpg');
      expect(ok.status).toBe(201);
      expect(await inspect.accounting(user.id)).toEqual({ imageRows: 1, storageBytes: ok.body.bytes });
    });

    it('accepts a file of exactly MAX_UPLOAD_BYTES', async () => {
      const user = await newUser();
      const bytes = await bigJpeg(MAX_UPLOAD_BYTES);
      const res = await upload(user.http, bytes, 'exactly-10-mib.jpg', 'image/jpeg');
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ bytes: MAX_UPLOAD_BYTES, sha256: sha256(bytes), width: 640, height: 480 });
    });

    it('refuses a HEIC-branded file it cannot decode with 415 or 422, leaving nothing behind', async () => {
      // sharp here cannot encode HEVC (heifsave: Unsupported compression), so the fixture is
      // a HEIF container branded heic whose payload no HEVC decoder accepts (see heic).
      // Whether Pixmill calls that an unsupported codec (415) or a corrupt image (422), it
      // must be a clean problem response, never a 500 or a stored object.
      const user = await newUser();
      const res = await upload(user.http, await heic(), 'IMG_0001.HEIC', 'image/heic');
      expect([415, 422]).toContain(res.status);
      expectProblem(res, res.status, res.status === 415 ? 'unsupported_media_type' : 'image_corrupt');
      await expectNothingStored(user);
    });
  });

  describe('HEIC photos (HEVC)', () => {
    const phoneHeic = () => readFileSync(join(__dirname, '../../libs/imaging/src/test/fixtures/hevc-160x120.heic'));

    it('upload → 201 with the size; renders to JPEG and WebP; gets a thumbnail and placeholders', async () => {
      const user = await newUser();
      const res = await upload(user.http, phoneHeic(), 'IMG_0002.HEIC', 'image/heic');
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ format: 'heic', mimeType: 'image/heic', width: 160, height: 120, pages: 1 });
      for (const [query, format, width, height] of [
        ['format=jpeg', 'jpeg', 160, 120],
        ['resize=80x&format=webp', 'webp', 80, 60],
      ] as const) {
        const out = await user.http.get(`/v1/images/${res.body.id}/transform?${query}&wait=25`);
        expect({ query, status: out.status }).toEqual({ query, status: 302 });
        const file = Buffer.from(await (await fetch(new URL(out.headers.get('location')!, api.baseUrl))).arrayBuffer());
        const meta = await sharp(file).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual([format, width, height]);
        const [r, , b] = await samplePixel(file, Math.floor(width * 0.25), Math.floor(height * 0.6));
        expect(r).toBeGreaterThan(200); // the red left half
        expect(b).toBeLessThan(60);
      }
      await thumbnailOf(user.http, res.body.id);
      expect((await user.http.get(`/v1/images/${res.body.id}`)).body.placeholder?.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
    });
  });

  describe('HEIC uploads are checked from the header', () => {
    const fixture = (name: string) => readFileSync(join(__dirname, '../../libs/imaging/src/test/fixtures', name));

    it('a truncated or corrupted HEIC → 422 image_corrupt, nothing stored; a header too large → 422 image_too_large', async () => {
      const user = await newUser();
      const whole = fixture('hevc-160x120.heic');
      for (const bytes of [whole.subarray(0, Math.floor(whole.length * 0.8)), whole.subarray(0, 300)]) {
        const res = await upload(user.http, bytes, 'cut.heic', 'image/heic');
        expectProblem(res, 422, 'image_corrupt');
      }
      const bomb = Buffer.from(whole);
      const ispe = bomb.indexOf('ispe', 0, 'latin1');
      bomb.writeUInt32BE(100_000, ispe + 8);
      bomb.writeUInt32BE(100_000, ispe + 12);
      expectProblem(await upload(user.http, bomb, 'bomb.heic', 'image/heic'), 422, 'image_too_large');
      // A collection of 101 top-level images: over MAX_ANIMATION_FRAMES (100), as a GIF of 101 frames is.
      expectProblem(await upload(user.http, withImageCopies(whole, 100), 'burst.heic', 'image/heic'), 422, 'image_too_large');
      await expectNothingStored(user);
    });

    it('an irot HEIC uploads with its displayed size and renders upright', async () => {
      const user = await newUser();
      const res = await upload(user.http, withPrimaryProperties(fixture('hevc-160x120.heic'), [irot(1)]), 'turned.heic', 'image/heic');
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ width: 120, height: 160 });
      const out = await user.http.get(`/v1/images/${res.body.id}/transform?format=png&wait=25`);
      expect(out.status).toBe(302);
      const file = Buffer.from(await (await fetch(new URL(out.headers.get('location')!, api.baseUrl))).arrayBuffer());
      const meta = await sharp(file).metadata();
      expect([meta.width, meta.height]).toEqual([120, 160]);
      const [r, g, b] = await samplePixel(file, 5, 155); // 90° counter-clockwise: the green square is bottom left
      expect([r < 60, g > 200, b < 60]).toEqual([true, true, true]);
    });
  });

  describe('reading images', () => {
    let owner: TestUser;
    let image: any;
    let bytes: Buffer;

    beforeAll(async () => {
      owner = await newUser();
      bytes = await jpeg(320, 240, { seed: 21 });
      const res = await upload(owner.http, bytes, 'holiday.jpg', 'image/jpeg');
      expect(res.status).toBe(201);
      image = res.body;
    });

    it('GET /v1/images/{id} → the image as uploaded', async () => {
      const res = await owner.http.get(`/v1/images/${image.id}`);
      expect(res.status).toBe(200);
      const { urls: _u1, ...rest } = res.body;
      const { urls: _u2, ...uploaded } = image;
      expect(rest).toEqual(uploaded);
      expect(res.body.urls.original).toMatch(new RegExp(`^${api.baseUrl}/files/`));
    });

    it('GET /v1/images/{id}/original → 302 to a signed URL that serves the same bytes with cache headers', async () => {
      const res = await owner.http.get(`/v1/images/${image.id}/original`);
      expect(res.status).toBe(302);
      const location = res.headers.get('location')!;
      expect(location).toMatch(new RegExp(`^${api.baseUrl}/files/users/${owner.id}/images/${image.id}/original\\?`));
      const url = new URL(location);
      expect(url.searchParams.get('expires')).toMatch(/^\d+$/);
      expect(Number(url.searchParams.get('expires')) * 1000).toBeGreaterThan(Date.now());
      expect(url.searchParams.get('sig')).toMatch(/^[0-9a-f]+$/);

      const file = await fetch(location); // no token: the signature is the credential
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toMatch(/^image\/jpeg/);
      expect(file.headers.get('cache-control')).toEqual(expect.stringMatching(/max-age=\d+/));
      expect(file.headers.get('etag')).toEqual(expect.stringMatching(/\S/));
      expect(file.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
      expect(sha256(Buffer.from(await file.arrayBuffer()))).toBe(sha256(bytes));
    });

    it('the file URL refuses a tampered signature, an expiry moved to the past, and a signature for another key → 403', async () => {
      const location = new URL((await owner.http.get(`/v1/images/${image.id}/original`)).headers.get('location')!);
      const sig = location.searchParams.get('sig')!;

      const tampered = new URL(location);
      tampered.searchParams.set('sig', `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`);
      expect((await fetch(tampered)).status).toBe(403);

      const expired = new URL(location);
      expired.searchParams.set('expires', String(Math.floor(Date.now() / 1000) - 60));
      expect((await fetch(expired)).status).toBe(403);

      const other = await upload(owner.http, await png(), 'other.png');
      expect(other.status).toBe(201);
      const otherKey = new URL(location);
      otherKey.pathname = otherKey.pathname.replace(image.id, other.body.id);
      expect((await fetch(otherKey)).status).toBe(403);

      const unsigned = new URL(location);
      unsigned.search = '';
      expect((await fetch(unsigned)).status).toBe(403);
    });

    it('with ALLOW_SVG, an SVG original is served as SVG under a sandboxing CSP (its script cannot run on the API origin)', async () => {
      const svgApi = await startApi({ ALLOW_SVG: 'true' });
      try {
        const u = await new UserFactory(new HttpClient(svgApi.baseUrl)).create();
        const scripted = Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><script>fetch("/v1/me")</script><rect width="40" height="40" fill="red"/></svg>',
        );
        const res = await upload(u.http, scripted, 'logo.svg', 'image/svg+xml');
        expect(res.status).toBe(201);
        const file = await fetch((await u.http.get(`/v1/images/${res.body.id}/original`)).headers.get('location')!);
        expect(file.status).toBe(200);
        expect(file.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
        expect(file.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
        expect(file.headers.get('x-content-type-options')).toBe('nosniff');
        expect(Buffer.from(await file.arrayBuffer()).equals(scripted)).toBe(true); // read to the end: the connection is free to close
      } finally {
        await svgApi.close();
      }
    });

    it('the file route never serves anything outside storage, whatever the path', async () => {
      for (const path of [
        '/files/..%2f..%2f..%2fetc%2fpasswd',
        `/files/users/%2e%2e/%2e%2e/etc/passwd?expires=${Math.floor(Date.now() / 1000) + 3600}&sig=${'0'.repeat(64)}`,
        '/files/%2e%2e/package.json',
        `/files/users/${owner.id}/images/${image.id}/.original.meta.json`,
      ]) {
        const res = await fetch(`${api.baseUrl}${path}`);
        expect({ path, status: res.status }).toEqual({ path, status: expect.any(Number) });
        expect([400, 403, 404]).toContain(res.status);
        expect(await res.text()).not.toMatch(/root:|"name": *"pixmill"|contentType/);
      }
    });

    it('GET /v1/images/{id}/derivatives → none yet', async () => {
      const res = await owner.http.get(`/v1/images/${image.id}/derivatives`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: [] });
    });

    it('a 256 px WebP thumbnail appears once the worker has rendered it', async () => {
      const thumbnail = await thumbnailOf(owner.http, image.id);
      const res = await fetch(thumbnail);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^image\/webp/);
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'webp', width: 256, height: 192 });
      // Written with the thumbnail: the placeholders of the same image.
      const { placeholder } = (await owner.http.get(`/v1/images/${image.id}`)).body;
      expect(placeholder).toEqual({ thumbhash: expect.any(String), blurhash: expect.any(String), dominantColor: expect.stringMatching(/^#[0-9a-f]{6}$/) });
      const avg = thumbHashToAverageRGBA(Buffer.from(placeholder.thumbhash, 'base64'));
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(placeholder.dominantColor.slice(i, i + 2), 16));
      const mean = (await sharp(Buffer.from(await (await fetch(thumbnail)).arrayBuffer())).stats()).channels.map((c) => c.mean);
      // Both follow the image's own colours (the mean of the thumbnail), not a constant.
      expect(Math.abs(avg.r * 255 - mean[0]) + Math.abs(avg.g * 255 - mean[1]) + Math.abs(avg.b * 255 - mean[2])).toBeLessThan(60);
      expect([r, g, b].every((v) => v >= 0 && v <= 255)).toBe(true);
    });

    it('the thumbnail of an EXIF-rotated photo is upright (portrait)', async () => {
      const res = await upload(owner.http, await exifOrientedJpeg(6, 300, 200), 'portrait.jpg', 'image/jpeg');
      expect(res.status).toBe(201);
      const thumb = await fetch(await thumbnailOf(owner.http, res.body.id));
      const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
      expect(meta.height).toBe(256);
      expect(meta.width).toBeGreaterThanOrEqual(170);
      expect(meta.width).toBeLessThanOrEqual(171);
    });

    it('GET /v1/me → usage.storageBytes is the sum of the originals', async () => {
      const user = await newUser();
      const a = await upload(user.http, await jpeg(320, 240, { seed: 31 }), 'a.jpg');
      const b = await upload(user.http, await png(200, 100, 32), 'b.png');
      expect([a.status, b.status]).toEqual([201, 201]);
      const me = await user.http.get('/v1/me');
      expect(me.status).toBe(200);
      expect(me.body.usage.storageBytes).toBe(a.body.bytes + b.body.bytes);
    });
  });

  describe('GET /v1/images (listing)', () => {
    let user: TestUser;
    /** Ids newest first. */
    let newestFirst: string[];

    beforeAll(async () => {
      user = await newUser();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await upload(user.http, await png(40, 30, 40 + i), `p${i}.png`);
        expect(res.status).toBe(201);
        ids.push(res.body.id);
      }
      newestFirst = ids.reverse();
    });

    it('lists the caller’s images newest first', async () => {
      const res = await user.http.get('/v1/images');
      expect(res.status).toBe(200);
      expect(res.body.items.map((i: any) => i.id)).toEqual(newestFirst);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items[0]).toMatchObject({ filename: 'p4.png', format: 'png', width: 40, height: 30, urls: { original: expect.any(String) } });
    });

    it('pages with a cursor until nextCursor is null, without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: HttpResponse = await user.http.get(`/v1/images?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((i: any) => i.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual(newestFirst);
      expect(pages).toBe(3);
    });

    it('pages with page= (1-based)', async () => {
      const ids = async (q: string) => {
        const res = await user.http.get(`/v1/images?${q}`);
        expect(res.status).toBe(200);
        return res.body.items.map((i: any) => i.id);
      };
      expect(await ids('limit=2&page=1')).toEqual(newestFirst.slice(0, 2));
      expect(await ids('limit=2&page=2')).toEqual(newestFirst.slice(2, 4));
      expect(await ids('limit=2&page=3')).toEqual(newestFirst.slice(4));
      expect(await ids('limit=2&page=4')).toEqual([]);
    });

    it.each(['limit=101', 'limit=0', 'limit=abc', 'page=0', 'cursor=%25%25not-a-cursor'])('refuses %s → 400', async (q) => {
      const res = await user.http.get(`/v1/images?${q}`);
      expectProblem(res, 400, 'validation_failed');
    });

    it('accepts limit=100', async () => {
      const res = await user.http.get('/v1/images?limit=100');
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(5);
    });

    it('needs a token', async () => {
      expectProblem(await http.get('/v1/images'), 401, 'unauthorized');
    });
  });

  describe('isolation', () => {
    it('another user gets 404 for every route of someone else’s image, which survives', async () => {
      const a = await newUser();
      const b = await newUser();
      const res = await upload(a.http, await jpeg(), 'private.jpg');
      expect(res.status).toBe(201);
      const id = res.body.id;
      expectProblem(await b.http.get(`/v1/images/${id}`), 404, 'not_found');
      expectProblem(await b.http.get(`/v1/images/${id}/original`), 404, 'not_found');
      expectProblem(await b.http.get(`/v1/images/${id}/derivatives`), 404, 'not_found');
      expectProblem(await b.http.delete(`/v1/images/${id}`), 404, 'not_found');
      expect((await b.http.get('/v1/images')).body.items).toEqual([]);
      expect((await a.http.get(`/v1/images/${id}`)).status).toBe(200);
      expect(await inspect.objects(`users/${a.id}/images/${id}/original`)).toHaveLength(1);
    });

    it.each(['not-a-uuid', '00000000-0000-0000-0000-000000000000', '1 OR 1=1'])('an unknown or malformed id (%s) → 404', async (raw) => {
      const user = await newUser();
      const id = encodeURIComponent(raw);
      expectProblem(await user.http.get(`/v1/images/${id}`), 404, 'not_found');
      expectProblem(await user.http.get(`/v1/images/${id}/original`), 404, 'not_found');
      expectProblem(await user.http.get(`/v1/images/${id}/derivatives`), 404, 'not_found');
      expectProblem(await user.http.delete(`/v1/images/${id}`), 404, 'not_found');
    });
  });

  describe('DELETE /v1/images/{id}', () => {
    it('→ 204; the image is gone at once, its objects and bytes after the cleanup job', async () => {
      const user = await newUser();
      const keep = await upload(user.http, await png(50, 50, 50), 'keep.png');
      const res = await upload(user.http, await jpeg(320, 240, { seed: 51 }), 'gone.jpg');
      expect([keep.status, res.status]).toEqual([201, 201]);
      const id = res.body.id;
      await thumbnailOf(user.http, id); // so there is more than the original to clean up
      const prefix = `users/${user.id}/images/${id}/`;
      expect((await inspect.objects(prefix)).length).toBeGreaterThanOrEqual(2);

      const del = await user.http.delete(`/v1/images/${id}`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expectProblem(await user.http.get(`/v1/images/${id}`), 404, 'not_found');
      expectProblem(await user.http.get(`/v1/images/${id}/original`), 404, 'not_found');
      expectProblem(await user.http.delete(`/v1/images/${id}`), 404, 'not_found');
      expect((await user.http.get('/v1/images')).body.items.map((i: any) => i.id)).toEqual([keep.body.id]);

      expect(await inspect.waitUntilEmpty(prefix)).toEqual([]);
      // A delivery URL handed out before the delete still has a valid signature: the object is gone, not an error.
      expect((await fetch(res.body.urls.original)).status).toBe(404);
      const after = await inspect.waitForAccounting(user.id, (a) => a.storageBytes === keep.body.bytes);
      expect(after).toEqual({ imageRows: 1, storageBytes: keep.body.bytes });
      expect((await user.http.get('/v1/me')).body.usage.storageBytes).toBe(keep.body.bytes);
      // The other image is untouched.
      expect(await inspect.objects(`users/${user.id}/images/${keep.body.id}/original`)).toHaveLength(1);
    });

    it('deleting right after upload leaves nothing, even with the thumbnail render in flight', async () => {
      const user = await newUser();
      const res = await upload(user.http, await jpeg(640, 480, { seed: 52 }), 'quick.jpg');
      expect(res.status).toBe(201);
      expect((await user.http.delete(`/v1/images/${res.body.id}`)).status).toBe(204);
      expect(await inspect.waitUntilEmpty(`users/${user.id}/`)).toEqual([]);
      // A late thumbnail write must not resurrect objects after the cleanup.
      await new Promise((r) => setTimeout(r, 1500));
      await expectNothingStored(user);
    });
  });

  describe('storage quota (PLAN_FREE_STORAGE_BYTES=350000)', () => {
    const QUOTA = 350_000;
    let quotaApi: RunningApi;
    let quotaHttp: HttpClient;
    /** ~95 KB photo-like JPEGs, distinct per seed: three fit in the quota, four do not. */
    const photo100k = (seed: number) => jpeg(420, 315, { seed, quality: 95 });

    beforeAll(async () => {
      // Same storage directory as the worker, so its thumbnail jobs find these originals too.
      quotaApi = await startApi({
        ...NO_RATE_LIMITS,
        PLAN_FREE_STORAGE_BYTES: String(QUOTA),
        STORAGE_LOCAL_DIR: api.config.storage.localDir,
      });
      quotaHttp = new HttpClient(quotaApi.baseUrl);
    });
    afterAll(() => quotaApi?.close());

    it('uploads until the quota is reached, then 403 storage_quota_exceeded; a delete frees room', async () => {
      const user = await new UserFactory(quotaHttp).create();
      const sizes: number[] = [];
      for (let seed = 61; seed <= 63; seed++) {
        const bytes = await photo100k(seed);
        expect(bytes.length).toBeGreaterThan(QUOTA / 4);
        expect(bytes.length).toBeLessThan(QUOTA / 3);
        const res = await upload(user.http, bytes, `q${seed}.jpg`);
        expect(res.status).toBe(201);
        sizes.push(res.body.bytes);
      }
      const stored = sizes.reduce((s, n) => s + n, 0);
      const over = await upload(user.http, await photo100k(64), 'q64.jpg');
      expectProblem(over, 403, 'storage_quota_exceeded');
      expect(await inspect.accounting(user.id)).toEqual({ imageRows: 3, storageBytes: stored });
      expect((await inspect.objects(`users/${user.id}/`)).filter((k) => k.endsWith('/original'))).toHaveLength(3);
      const me = await user.http.get('/v1/me');
      expect(me.body.usage).toMatchObject({ storageBytes: stored, storageQuotaBytes: QUOTA });

      // Deleting one image gives its bytes back once cleaned up; then the next upload fits.
      const first = (await user.http.get('/v1/images')).body.items.at(-1);
      expect((await user.http.delete(`/v1/images/${first.id}`)).status).toBe(204);
      await inspect.waitForAccounting(user.id, (a) => a.storageBytes === stored - first.bytes);
      expect((await upload(user.http, await photo100k(64), 'q64.jpg')).status).toBe(201);
    });

    it('parallel uploads never store more than the quota, and the losers get 403', async () => {
      const user = await new UserFactory(quotaHttp).create();
      const files = await Promise.all([71, 72, 73, 74, 75, 76].map(photo100k));
      const results = await Promise.all(files.map((bytes, i) => upload(user.http, bytes, `race${i}.jpg`)));
      const ok = results.filter((r) => r.status === 201);
      const refused = results.filter((r) => r.status !== 201);
      const stored = ok.reduce((s, r) => s + r.body.bytes, 0);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      expect(ok.length).toBeLessThanOrEqual(3);
      expect(stored).toBeLessThanOrEqual(QUOTA);
      for (const r of refused) expectProblem(r, 403, 'storage_quota_exceeded');
      // The counter holds exactly what was stored: every refused reservation was released.
      expect(await inspect.accounting(user.id)).toEqual({ imageRows: ok.length, storageBytes: stored });
      expect((await inspect.objects(`users/${user.id}/`)).filter((k) => k.endsWith('/original'))).toHaveLength(ok.length);
    });
  });
});
