import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { JobRepository } from '@pixmill/db';
import { canonicalSpec, InputFormat, specHash, TransformationSpec } from '@pixmill/imaging';
import { JobDispatcher, JobQueue, QueueName } from '@pixmill/queue';
import { HttpClient, jpeg, RunningApi, startApi, TEST_DATABASE_URL, TestUser, uploadForm, UserFactory } from '@pixmill/testing';

/**
 * JobDispatcher against the real PostgreSQL and Redis, no worker: jobs stay where
 * dispatch put them. Two API processes' worth of dispatchers (two apps, two pools)
 * race, as API replicas and workers do in production.
 */
describe('JobDispatcher: per-user slots in PostgreSQL (integration)', () => {
  const CAP = 3;
  let api: RunningApi;
  let replica: RunningApi;
  let http: HttpClient;
  let db: Client;
  let jobs: JobRepository;
  let queue: JobQueue;

  beforeAll(async () => {
    [api, replica] = await Promise.all([
      startApi({ MAX_ACTIVE_JOBS_PER_USER: String(CAP) }),
      startApi({ MAX_ACTIVE_JOBS_PER_USER: String(CAP) }),
    ]);
    http = new HttpClient(api.baseUrl);
    jobs = api.app.get(JobRepository);
    queue = api.app.get(JobQueue);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    // Later suites in this run start workers: nothing of ours should be rendered by them.
    await db?.query(`UPDATE jobs SET status = 'canceled', finished_at = now() WHERE status = 'queued' AND user_id = ANY($1)`, [users]);
    await db?.end();
    await Promise.all([api?.close(), replica?.close()]);
  });

  const users: string[] = [];
  async function userWithImage(): Promise<{ user: TestUser; image: { id: string; format: InputFormat } }> {
    const user = await new UserFactory(http).create();
    users.push(user.id);
    const res = await user.http.request('POST', '/v1/images', { body: uploadForm(await jpeg(64, 48), 'small.jpg') });
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${res.text}`);
    return { user, image: { id: res.body.id, format: res.body.format } };
  }

  /**
   * `count` queued rows, undispatched (as if the API had crashed before dispatching), created
   * one second apart in the past so "oldest" is unambiguous. Returned oldest first.
   */
  async function waitingJobs(owner: { user: TestUser; image: { id: string; format: InputFormat } }, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const spec: TransformationSpec = { operations: [{ op: 'resize', width: 8 + i }], output: { format: 'webp' } };
      const row = await jobs.insertQueued({
        id: randomUUID(),
        userId: owner.user.id,
        imageId: owner.image.id,
        specHash: specHash(spec, owner.image.format),
        spec: canonicalSpec(spec, owner.image.format) as unknown as Record<string, unknown>,
      });
      await db.query(`UPDATE jobs SET created_at = now() - make_interval(secs => $2) WHERE id = $1`, [row!.id, 100 - i]);
      ids.push(row!.id);
    }
    return ids;
  }

  const dispatchedOf = async (userId: string): Promise<string[]> =>
    (
      await db.query(
        `SELECT id FROM jobs WHERE user_id = $1 AND status IN ('queued', 'active') AND dispatched_at IS NOT NULL ORDER BY created_at`,
        [userId],
      )
    ).rows.map((r) => r.id);
  const stateOf = (id: string) => queue.queue(QueueName.Transform).getJobState(id);

  it(`20 concurrent dispatch() calls from two API processes dispatch exactly ${CAP} jobs, the oldest, and enqueue only those`, async () => {
    const owner = await userWithImage();
    const ids = await waitingJobs(owner, 10);
    const dispatchers = [api.app.get(JobDispatcher), replica.app.get(JobDispatcher)];

    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => dispatchers[i % 2].dispatch(owner.user.id)));

    const handedOut = results.flat().map((j) => j.id);
    expect(handedOut.sort()).toEqual(ids.slice(0, CAP).sort());
    expect(await dispatchedOf(owner.user.id)).toEqual(ids.slice(0, CAP));
    for (const id of ids.slice(0, CAP)) expect(await stateOf(id)).toBe('waiting');
    for (const id of ids.slice(CAP)) expect(await stateOf(id)).toBe('unknown');
    // Idempotent: no free slot, nothing more.
    expect(await dispatchers[0].dispatch(owner.user.id)).toEqual([]);
  });

  it('a job returned by one call is handed out in creation order', async () => {
    const owner = await userWithImage();
    const ids = await waitingJobs(owner, 5);
    const first = await api.app.get(JobDispatcher).dispatch(owner.user.id);
    expect(first.map((j) => j.id)).toEqual(ids.slice(0, CAP));
  });

  it('canceling a dispatched job frees its slot for the next oldest; canceling a waiting one frees nothing', async () => {
    const owner = await userWithImage();
    const ids = await waitingJobs(owner, 6);
    await api.app.get(JobDispatcher).dispatch(owner.user.id);
    expect(await dispatchedOf(owner.user.id)).toEqual(ids.slice(0, 3));

    // A waiting job (never in the queue) is canceled: still three dispatched, the same three.
    expect((await owner.user.http.delete(`/v1/jobs/${ids[4]}`)).status).toBe(200);
    expect(await dispatchedOf(owner.user.id)).toEqual(ids.slice(0, 3));

    // A dispatched one: it leaves the queue and the next waiting job (ids[3]) takes its slot.
    expect((await owner.user.http.delete(`/v1/jobs/${ids[1]}`)).status).toBe(200);
    expect(await dispatchedOf(owner.user.id)).toEqual([ids[0], ids[2], ids[3]]);
    expect(await stateOf(ids[1])).toBe('unknown');
    expect(await stateOf(ids[3])).toBe('waiting');
    expect(await stateOf(ids[5])).toBe('unknown');
  });

  it('a final status frees the slot too (what the worker does after each job)', async () => {
    const owner = await userWithImage();
    const ids = await waitingJobs(owner, 4);
    await api.app.get(JobDispatcher).dispatch(owner.user.id);
    expect(await jobs.markFailed(ids[0], 'internal_error', 'test')).toMatchObject({ id: ids[0], status: 'failed' });
    expect((await api.app.get(JobDispatcher).dispatchAfter(ids[0])).map((j) => j.id)).toEqual([ids[3]]);
    expect(await dispatchedOf(owner.user.id)).toEqual(ids.slice(1, 4));
  });

  it("one user's backlog takes none of another user's slots", async () => {
    const busy = await userWithImage();
    await waitingJobs(busy, 8);
    await api.app.get(JobDispatcher).dispatch(busy.user.id);

    const other = await userWithImage();
    const submitted = await other.user.http.post(`/v1/images/${other.image.id}/transformations`, {
      operations: [{ op: 'resize', width: 8 }],
      output: { format: 'webp' },
    });
    expect(submitted.status).toBe(202);
    expect(await dispatchedOf(other.user.id)).toEqual([submitted.body.id]);
    expect(await stateOf(submitted.body.id)).toBe('waiting');
  });
});
