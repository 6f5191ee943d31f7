import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Client } from 'pg';
import {
  expectProblem,
  HttpClient,
  jpeg,
  pollUntil,
  postImage,
  RunningApi,
  s3Env,
  S3rverHandle,
  startApi,
  startS3rver,
  startWorkerProcess,
  StorageInspector,
  TEST_DATABASE_URL,
  TEST_QUEUE_PREFIX,
  TEST_REDIS_URL,
  UserFactory,
  waitForThumbnail,
  WorkerProcess,
} from '@pixmill/testing';

const SPEC = { operations: [{ op: 'resize', width: 80 }], output: { format: 'webp' } };
/** A worker process transpiles at start; on a loaded machine that takes long. */
const WORKER_START_MS = 120_000;
const TABLES = ['images', 'derivatives', 'jobs', 'webhook_endpoints', 'webhook_messages', 'webhook_deliveries', 'presets', 'url_keys', 'api_keys', 'refresh_tokens', 'account_tokens'];

/**
 * DELETE /v1/me against S3 storage (s3rver): every row of the account goes, a job still in
 * the queue is canceled and leaves it, the objects are removed by the cleanup job, every
 * token and key stops working, and the address can sign up again.
 */
describe('account deletion (e2e, S3 storage)', () => {
  let s3: S3rverHandle;
  let api: RunningApi;
  let worker: WorkerProcess | undefined;
  let http: HttpClient;
  let inspect: StorageInspector;
  let db: Client;
  let redis: IORedis;
  let transformQueue: Queue;

  beforeAll(async () => {
    s3 = await startS3rver();
    api = await startApi({ ...s3Env(s3), WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    worker = await startWorkerProcess(s3Env(s3), WORKER_START_MS);
    http = new HttpClient(api.baseUrl);
    inspect = StorageInspector.s3(s3.driverOptions);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    transformQueue = new Queue('transform', { connection: redis, prefix: TEST_QUEUE_PREFIX });
  }, 3 * WORKER_START_MS);

  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await transformQueue?.close();
    redis?.disconnect();
    await db?.end();
    await inspect?.close();
    await s3?.stop();
  });

  const rowsOf = async (userId: string): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const t of TABLES) counts[t] = Number((await db.query(`SELECT count(*) AS n FROM ${t} WHERE user_id = $1`, [userId])).rows[0].n);
    return counts;
  };

  it('wrong password → 401 invalid_credentials and nothing goes; the password → 204 and everything of the account goes', async () => {
    const user = await new UserFactory(http).create();
    const up = await postImage(user.http, await jpeg(200, 150, { seed: 91 }), 'mine.jpg');
    expect(up.status).toBe(201);
    await waitForThumbnail(user.http, up.body.id, worker);
    const rendered = await user.http.post(`/v1/images/${up.body.id}/transformations`, SPEC);
    const done = await user.http.get(`/v1/jobs/${rendered.body.id}?wait=20`);
    expect(done.body.status).toBe('succeeded');
    expect((await user.http.post('/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/hook', events: ['job.succeeded'] })).status).toBe(201);
    expect((await user.http.post('/v1/presets', { name: 'small', spec: SPEC })).status).toBe(201);
    expect((await user.http.get('/v1/url-keys')).status).toBe(200);
    const key = (await user.http.post('/v1/api-keys', { name: 'srv', scopes: ['images:read'] })).body.key as string;
    expect((await http.as(key).get('/v1/images')).status).toBe(200);
    const prefix = `users/${user.id}/`;
    expect((await inspect.objects(prefix)).length).toBeGreaterThanOrEqual(3); // original, thumbnail, derivative

    // A job still waiting in the queue when the account goes: no worker takes it meanwhile.
    await worker!.stop();
    worker = undefined;
    const waiting = await user.http.post(`/v1/images/${up.body.id}/transformations`, { ...SPEC, operations: [{ op: 'grayscale' }] });
    expect(waiting.status).toBe(202);
    expect(await transformQueue.getJob(waiting.body.id)).toBeTruthy();

    expectProblem(await user.http.request('DELETE', '/v1/me', { json: { password: 'not the password' } }), 401, 'invalid_credentials');
    expect((await user.http.get('/v1/me')).status).toBe(200);
    expectProblem(await user.http.request('DELETE', '/v1/me', { json: {} }), 400, 'validation_failed');

    expect((await user.http.request('DELETE', '/v1/me', { json: { password: user.password } })).status).toBe(204);

    expect(await transformQueue.getJob(waiting.body.id)).toBeFalsy();
    expect(await rowsOf(user.id)).toEqual(Object.fromEntries(TABLES.map((t) => [t, 0])));
    expect((await db.query(`SELECT count(*) AS n FROM users WHERE id = $1`, [user.id])).rows[0].n).toBe('0');
    expect((await db.query(`SELECT count(*) AS n FROM storage_cleanups WHERE prefix = $1`, [prefix])).rows[0].n).toBe('1');

    // Every way in is closed: the session's access token, its refresh token, the API key, the password.
    expectProblem(await user.http.get('/v1/me'), 401, 'unauthorized');
    expectProblem(await user.http.get(`/v1/images/${up.body.id}`), 401, 'unauthorized');
    expectProblem(await http.as(key).get('/v1/images'), 401, 'unauthorized');
    expectProblem(await http.post('/v1/auth/refresh', { refreshToken: user.refreshToken }), 401, 'unauthorized');
    expectProblem(await http.post('/v1/auth/login', { email: user.email, password: user.password }), 401, 'invalid_credentials');

    // The retried cleanup job (a worker again) removes every object of the account.
    worker = await startWorkerProcess(s3Env(s3), WORKER_START_MS);
    expect(await pollUntil(() => inspect.objects(prefix), (keys) => keys.length === 0)).toEqual([]);
    await pollUntil(
      async () => (await db.query(`SELECT count(*) AS n FROM storage_cleanups WHERE prefix = $1`, [prefix])).rows[0].n,
      (n) => n === '0',
    );

    // The address is free: a new account, with nothing of the old one.
    const again = await new UserFactory(http).email(user.email).create();
    expect(again.id).not.toBe(user.id);
    expect((await again.http.get('/v1/images')).body.items).toEqual([]);
    expectProblem(await again.http.get(`/v1/images/${up.body.id}`), 404, 'not_found');
  }, 4 * WORKER_START_MS);

  it('another account is untouched', async () => {
    const [a, b] = [await new UserFactory(http).create(), await new UserFactory(http).create()];
    const kept = await postImage(b.http, await jpeg(64, 48, { seed: 92 }), 'kept.jpg');
    expect((await a.http.request('DELETE', '/v1/me', { json: { password: a.password } })).status).toBe(204);
    expect((await b.http.get(`/v1/images/${kept.body.id}`)).status).toBe(200);
    expect((await b.http.get('/v1/me')).body.id).toBe(b.id);
  });
});
