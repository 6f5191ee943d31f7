import {
  freePort,
  HttpClient,
  jpeg,
  postImage,
  RecordedS3Request,
  RunningApi,
  S3rverHandle,
  s3Env,
  startApi,
  startS3rver,
  startWorkerProcess,
  UserFactory,
  waitForThumbnail,
  WorkerProcess,
} from '@pixmill/testing';

const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** Requests that create an object: a PutObject of a key, or the CreateMultipartUpload of a large one. */
const isWrite = (r: RecordedS3Request) =>
  (r.method === 'PUT' && r.url.includes('/users/') && !/[?&]partNumber=/.test(r.url)) || (r.method === 'POST' && /[?&]uploads(=|&|$)/.test(r.url));

/**
 * S3_SSE=aws:kms with a key on the API and a worker process: every object either writes (the
 * original from the API, the thumbnail and a derivative from the worker) asks S3 for that key,
 * as seen by the S3 server (s3rver, which takes the headers; KMS itself cannot run here), and
 * direct uploads carry it in their POST policy.
 */
describe('S3 server-side encryption (e2e)', () => {
  let s3: S3rverHandle;
  let api: RunningApi;
  let worker: WorkerProcess;
  let http: HttpClient;
  let recording: ReturnType<S3rverHandle['recordRequests']>;

  beforeAll(async () => {
    s3 = await startS3rver();
    recording = s3.recordRequests();
    const env = { ...s3Env(s3), S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: KMS_KEY };
    api = await startApi(env);
    worker = await startWorkerProcess({ ...env, PUBLIC_BASE_URL: api.baseUrl, WORKER_METRICS_PORT: String(await freePort()) });
    http = new HttpClient(api.baseUrl);
  }, 90_000);
  afterAll(async () => {
    recording?.stop();
    await worker?.stop();
    await api?.close();
    await s3?.stop();
  });

  it('the original, its thumbnail and a derivative are each written with x-amz-server-side-encryption: aws:kms and the key', async () => {
    const user = await new UserFactory(http).create();
    const up = await postImage(user.http, await jpeg(200, 150, { seed: 31 }), 'sse.jpg');
    expect(up.status).toBe(201);
    await waitForThumbnail(user.http, up.body.id, worker);
    const job = await user.http.post(`/v1/images/${up.body.id}/transformations`, { operations: [{ op: 'resize', width: 50 }], output: { format: 'png' } });
    expect(job.status).toBe(202);
    expect((await user.http.get(`/v1/jobs/${job.body.id}?wait=30`)).body.status).toBe('succeeded');

    const prefix = `/${s3.bucket}/users/${user.id}/images/${up.body.id}/`;
    const writes = recording.requests.filter((r) => isWrite(r) && r.url.startsWith(prefix));
    const written = writes.map((r) => r.url.slice(prefix.length).split('?')[0]);
    expect(written).toEqual(expect.arrayContaining(['original', expect.stringMatching(/^derivatives\/[0-9a-f]+\.png$/)]));
    expect(written.length).toBeGreaterThanOrEqual(3); // original, thumbnail, derivative
    for (const w of writes) {
      expect({ url: w.url, sse: w.headers['x-amz-server-side-encryption'], key: w.headers['x-amz-server-side-encryption-aws-kms-key-id'] }).toEqual({
        url: w.url,
        sse: 'aws:kms',
        key: KMS_KEY,
      });
    }
  });

  it('a direct upload’s presigned POST requires the encryption in its policy, and the S3 server takes the form', async () => {
    const user = await new UserFactory(http).create();
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const start = await user.http.post('/v1/uploads', { filename: 'd.png', contentType: 'image/png', bytes: 1000 });
    expect(start.status).toBe(201);
    expect(start.body.fields).toMatchObject({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': KMS_KEY });
    const policy = JSON.parse(Buffer.from(start.body.fields.Policy, 'base64').toString('utf8'));
    expect(policy.conditions).toEqual(
      expect.arrayContaining([{ 'x-amz-server-side-encryption': 'aws:kms' }, { 'x-amz-server-side-encryption-aws-kms-key-id': KMS_KEY }]),
    );
    const form = new FormData();
    for (const [name, value] of Object.entries(start.body.fields as Record<string, string>)) form.append(name, value);
    form.append('file', new Blob([png], { type: 'image/png' }), 'd.png');
    expect((await fetch(start.body.url, { method: 'POST', body: form })).status).toBe(204);
  });
});
