import {
  HttpClient,
  jpeg,
  pollUntil,
  RedisClusterHarness,
  RunningApi,
  startApi,
  startWorkerProcess,
  TEST_QUEUE_PREFIX,
  TestUser,
  uploadForm,
  UserFactory,
  WorkerProcess,
} from '@pixmill/testing';

/**
 * Pixmill on a real Redis Cluster (six nodes, three masters with a replica each): queues,
 * the rate limiter, the read cache, the webhook limiter and the job events all run on it.
 * A master is killed mid-flow; once its replica has taken over, every job still succeeds.
 */
describe('Redis Cluster (e2e)', () => {
  jest.setTimeout(240_000);
  let cluster: RedisClusterHarness;
  let api: RunningApi;
  let worker: WorkerProcess;
  let user: TestUser;
  let imageId: string;

  beforeAll(async () => {
    cluster = await RedisClusterHarness.start();
    const env = { REDIS_URL: cluster.url, QUEUE_PREFIX: TEST_QUEUE_PREFIX, READ_CACHE: 'true', RATE_LIMIT_PER_MINUTE: '100000' };
    api = await startApi(env);
    worker = await startWorkerProcess({ ...env, STORAGE_LOCAL_DIR: api.config.storage.localDir, WORKER_LOCK_DURATION_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1500', RECONCILE_INTERVAL_MS: '1000' }, 120_000);
    user = await new UserFactory(new HttpClient(api.baseUrl)).plan('pro').create();
    const up = await user.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(200, 150), 'cluster.jpg') });
    expect(up.status).toBe(201);
    imageId = up.body.id;
  });

  afterAll(async () => {
    await worker?.kill();
    await api?.close();
    await cluster?.stop();
  });

  /** Submits until accepted: during a failover the API answers 503 and the client retries. */
  async function submit(width: number): Promise<string> {
    const res = await pollUntil(
      () => user.http.post(`/v1/images/${imageId}/transformations`, { operations: [{ op: 'resize', width }], output: { format: 'webp' } }),
      (r) => r.status === 202,
      30_000,
      300,
    );
    // The problem's detail says which dependency answered 503, should the cluster never settle.
    expect({ status: res.status, problem: res.status === 202 ? undefined : res.body }).toEqual({ status: 202, problem: undefined });
    return res.body.id;
  }

  async function expectAllSucceeded(ids: string[]): Promise<void> {
    for (const id of ids) {
      const job = await pollUntil(() => user.http.get(`/v1/jobs/${id}`), (r) => r.status === 200 && ['succeeded', 'failed', 'canceled'].includes(r.body.status), 90_000, 300);
      expect({ id, status: job.body.status }).toEqual({ id, status: 'succeeded' });
    }
  }

  it('runs jobs on the cluster, and all still succeed after a master is killed and its replica takes over', async () => {
    const before: string[] = [];
    for (let w = 50; w < 56; w++) before.push(await submit(w));
    await expectAllSucceeded(before);
    // Reads go through the read cache on the cluster and agree with PostgreSQL.
    expect((await user.http.get(`/v1/jobs/${before[0]}`)).body.status).toBe('succeeded');

    const during: string[] = [];
    for (let w = 60; w < 64; w++) during.push(await submit(w));
    const master = await cluster.masterOf(TEST_QUEUE_PREFIX);
    await cluster.kill(master);
    for (let w = 64; w < 70; w++) during.push(await submit(w));
    await cluster.waitUntilOk(60_000);
    expect(await cluster.masterOf(TEST_QUEUE_PREFIX)).not.toBe(master);
    for (let w = 70; w < 74; w++) during.push(await submit(w));
    await expectAllSucceeded(during);
    expect((await user.http.get('/v1/me')).status).toBe(200);
  });
});
