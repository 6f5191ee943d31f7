import sharp from 'sharp';
import {
  postImage,
  waitForThumbnail,
  s3Env,
  expectProblem,
  freePort,
  animatedGif,
  bigJpeg,
  HttpClient,
  HttpResponse,
  jpeg,
  pollUntil,
  RunningApi,
  S3rverHandle,
  sha256,
  startApi,
  startS3rver,
  startWorkerProcess,
  StorageInspector,
  textFile,
  TestUser,
  truncatedJpeg,
  UserFactory,
  WorkerProcess,
} from '@pixmill/testing';

/**
 * The main image flow with STORAGE_DRIVER=s3 against s3rver: uploads land in the bucket,
 * downloads are presigned S3 URLs, the worker renders thumbnails into the bucket, and
 * rejected uploads and deletes leave no objects behind.
 */
describe('images (e2e, S3 storage)', () => {
  let s3: S3rverHandle;
  let api: RunningApi;
  let worker: WorkerProcess;
  let http: HttpClient;
  let inspect: StorageInspector;

  beforeAll(async () => {
    s3 = await startS3rver();
    const env = s3Env(s3);
    api = await startApi({ ...env, RATE_LIMIT_PER_MINUTE: '1000000', AUTH_RATE_LIMIT_PER_MINUTE: '1000000' });
    worker = await startWorkerProcess(env);
    http = new HttpClient(api.baseUrl);
    inspect = StorageInspector.s3(s3.driverOptions);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await inspect?.close();
    await s3?.stop();
  });

  const newUser = () => new UserFactory(http).create();
  const upload = postImage;

  const thumbnailOf = (client: HttpClient, id: string) => waitForThumbnail(client, id, worker);

  it('upload → 201, stored in the bucket; /original → 302 to a presigned URL serving the same bytes', async () => {
    const user = await newUser();
    const bytes = await jpeg(320, 240, { seed: 81 });
    const res = await upload(user.http, bytes, 'beach.jpg', 'application/octet-stream');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ format: 'jpeg', mimeType: 'image/jpeg', width: 320, height: 240, pages: 1, bytes: bytes.length, sha256: sha256(bytes) });
    const key = `users/${user.id}/images/${res.body.id}/original`;
    expect(await inspect.objects(key)).toEqual([key]);
    expect(sha256(await inspect.driver.getBuffer(key))).toBe(sha256(bytes));
    expect((await inspect.driver.head(key))?.contentType).toBe('image/jpeg'); // from the bytes, not the declared type
    expect(await inspect.accounting(user.id)).toEqual({ imageRows: 1, storageBytes: bytes.length });

    const redirect = await user.http.get(`/v1/images/${res.body.id}/original`);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(`${s3.endpoint}/${s3.bucket}/${key}?`)).toBe(true);
    expect(new URL(location).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/^image\/jpeg/);
    expect(sha256(Buffer.from(await file.arrayBuffer()))).toBe(sha256(bytes));
    expect(res.body.urls.original).toMatch(new RegExp(`^${s3.endpoint}/${s3.bucket}/`));
  });

  it('the worker renders a 256 px WebP thumbnail into the bucket', async () => {
    const user = await newUser();
    const res = await upload(user.http, await jpeg(320, 240, { seed: 82 }), 'thumb.jpg');
    expect(res.status).toBe(201);
    const thumbnail = await thumbnailOf(user.http, res.body.id);
    expect(thumbnail.startsWith(`${s3.endpoint}/${s3.bucket}/users/${user.id}/images/${res.body.id}/`)).toBe(true);
    const file = await fetch(thumbnail);
    expect(file.status).toBe(200);
    const meta = await sharp(Buffer.from(await file.arrayBuffer())).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'webp', width: 256, height: 192 });
  });

  const rejected: Array<[string, number, string, (u: TestUser) => Promise<HttpResponse>]> = [
    ['a file over MAX_UPLOAD_BYTES', 413, 'file_too_large', async (u) => upload(u.http, await bigJpeg(11 * 1024 * 1024), 'big.jpg', 'image/jpeg')],
    ['a text file named .jpg', 415, 'unsupported_media_type', (u) => upload(u.http, textFile(), 'x.jpg', 'image/jpeg')],
    ['a truncated JPEG', 422, 'image_corrupt', async (u) => upload(u.http, await truncatedJpeg(), 'half.jpg', 'image/jpeg')],
    ['an animated GIF of 101 frames', 422, 'image_too_large', async (u) => upload(u.http, await animatedGif(101, 8, 8), 'long.gif', 'image/gif')],
  ];

  it.each(rejected)('refuses %s → %i %s with nothing left in the bucket', async (_what, status, code, send) => {
    const user = await newUser();
    expectProblem(await send(user), status, code);
    expect(await inspect.objects(`users/${user.id}/`)).toEqual([]);
    expect(await inspect.accounting(user.id)).toEqual({ imageRows: 0, storageBytes: 0 });
  });

  it('/health/ready: storage up with the bucket there; down on the API and the worker when S3_BUCKET names none', async () => {
    const ready = await http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.storage).toBe('up');

    // An object HEAD in a missing bucket answers 404 like a missing key; HeadBucket tells them apart.
    const missing = { ...s3Env(s3), S3_BUCKET: 'pixmill-no-such-bucket' };
    const port = await freePort();
    const [misconfigured, misconfiguredWorker] = await Promise.all([
      startApi(missing),
      startWorkerProcess({ ...missing, WORKER_METRICS_PORT: String(port) }),
    ]);
    try {
      const res = await new HttpClient(misconfigured.baseUrl).get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'unavailable', checks: { postgres: 'up', redis: 'up', storage: 'down' } });
      const worker = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(worker.status).toBe(503);
      expect(await worker.json()).toEqual({ status: 'unavailable', checks: { postgres: 'up', redis: 'up', storage: 'down' } });
    } finally {
      await Promise.all([misconfigured.close(), misconfiguredWorker.stop()]);
    }
  });

  it('DELETE → 204; the cleanup job removes the original and the thumbnail from the bucket', async () => {
    const user = await newUser();
    const res = await upload(user.http, await jpeg(320, 240, { seed: 83 }), 'bye.jpg');
    expect(res.status).toBe(201);
    await thumbnailOf(user.http, res.body.id);
    const prefix = `users/${user.id}/images/${res.body.id}/`;
    expect((await inspect.objects(prefix)).length).toBeGreaterThanOrEqual(2);

    expect((await user.http.delete(`/v1/images/${res.body.id}`)).status).toBe(204);
    expectProblem(await user.http.get(`/v1/images/${res.body.id}`), 404, 'not_found');
    expect(await pollUntil(() => inspect.objects(prefix), (keys) => keys.length === 0)).toEqual([]);
    expect(await inspect.waitForAccounting(user.id, (a) => a.storageBytes === 0)).toEqual({ imageRows: 0, storageBytes: 0 });
  });
});
