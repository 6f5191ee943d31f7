import { Client } from 'pg';
import {
  HttpClient,
  jpeg,
  pollUntil,
  RunningApi,
  startApi,
  startWorkerProcess,
  TEST_DATABASE_URL,
  TestUser,
  uploadForm,
  UserFactory,
  WorkerProcess,
} from '@pixmill/testing';

interface Row {
  id: string;
  status: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/**
 * Work-conserving fair scheduling (docs/decisions/008) end to end: the API and worker
 * processes with real PostgreSQL and Redis. Assertions are on how many jobs ran at once
 * and in which order they started (from the rows), never on how long anything took.
 */
describe('fair scheduling (e2e)', () => {
  let db: Client;

  beforeAll(async () => {
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
  });

  const rowsOf = async (userId: string): Promise<Row[]> =>
    (
      await db.query(
        `SELECT id, status, created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"
           FROM jobs WHERE user_id = $1 ORDER BY created_at, id`,
        [userId],
      )
    ).rows;

  const succeededOf = async (userId: string): Promise<number> =>
    (await db.query(`SELECT count(*)::int AS n FROM jobs WHERE user_id = $1 AND status = 'succeeded'`, [userId])).rows[0].n;

  async function uploadImage(user: TestUser, bytes: Buffer): Promise<string> {
    const res = await user.http.request('POST', '/v1/images', { body: uploadForm(bytes, 'photo.jpg') });
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${res.text}`);
    return res.body.id;
  }

  /** Submits `n` distinct blurs (so none joins another's render) of one image; returns the job ids in order. */
  async function submitBlurs(user: TestUser, imageId: string, n: number, from = 0): Promise<string[]> {
    const ids: string[] = [];
    for (let i = from; i < from + n; i++) {
      const res = await user.http.post(`/v1/images/${imageId}/transformations`, {
        operations: [{ op: 'blur', sigma: 2 + i / 10 }],
        output: { format: 'png' },
      });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    return ids;
  }

  /** Most jobs whose [startedAt, finishedAt] intervals overlap at one instant. */
  function maxOverlap(rows: Row[]): number {
    const events = rows.flatMap((r) => [
      { t: new Date(r.startedAt!).getTime(), d: 1 },
      { t: new Date(r.finishedAt!).getTime(), d: -1 },
    ]);
    // At equal times, an end comes before a start: touching intervals do not overlap.
    events.sort((a, b) => a.t - b.t || a.d - b.d);
    let now = 0;
    let max = 0;
    for (const e of events) max = Math.max(max, (now += e.d));
    return max;
  }

  /** An API for the enclosing describe block, and `workers` worker processes of `concurrency` slots each. */
  function stack(env: Record<string, string>, workers: number, concurrency: number) {
    let api: RunningApi | undefined;
    const running: WorkerProcess[] = [];
    beforeAll(async () => {
      api = await startApi({ RATE_LIMIT_PER_MINUTE: '100000', ...env });
      for (let i = 0; i < workers; i++) {
        running.push(
          await startWorkerProcess({
            STORAGE_LOCAL_DIR: api.config.storage.localDir,
            WORKER_CONCURRENCY: String(concurrency),
            WORKER_METRICS_PORT: '0',
            ...env,
          }),
        );
      }
    });
    afterAll(async () => {
      await Promise.all(running.map((w) => w.stop()));
      await api?.close();
    });
    return { http: () => new HttpClient(api!.baseUrl) };
  }

  describe('3 worker processes × 2 slots', () => {
    const fleet = stack({}, 3, 2);
    const SLOTS = 6;

    it("one user alone keeps at least 5 of the 6 slots busy; a second user's job starts within one round", async () => {
      const a = await new UserFactory(fleet.http()).plan('unlimited').create();
      const b = await new UserFactory(fleet.http()).create();
      // Large enough that a blur takes a while, so jobs that can overlap do.
      const photo = await jpeg(1200, 900, { seed: 5 });
      const [imageA, imageB] = [await uploadImage(a, photo), await uploadImage(b, photo)];

      const aIds = await submitBlurs(a, imageA, 40);
      // B asks once A's burst is under way, while most of it still waits.
      await pollUntil(() => rowsOf(a.id), (rows) => rows.filter((r) => r.startedAt).length >= SLOTS, 60_000, 20);
      const [bId] = await submitBlurs(b, imageB, 1);

      await pollUntil(() => succeededOf(b.id), (n) => n === 1, 60_000, 50);
      await pollUntil(() => succeededOf(a.id), (n) => n === aIds.length, 120_000, 100);
      const rowsA = await rowsOf(a.id);
      const [rowB] = await rowsOf(b.id);
      expect(rowB).toMatchObject({ id: bId, status: 'succeeded' });

      // A alone: how many of its jobs rendered at once, from the rows' own intervals (before B asked).
      const bCreated = new Date(rowB.createdAt).getTime();
      const bStarted = new Date(rowB.startedAt!).getTime();
      const aloneOverlap = maxOverlap(rowsA.filter((r) => new Date(r.startedAt!).getTime() < bCreated));
      // B: how many of A's jobs started after B asked and before B's job started.
      const aheadOfB = rowsA.filter((r) => {
        const t = new Date(r.startedAt!).getTime();
        return t > bCreated && t < bStarted;
      }).length;
      const queuedWhenBAsked = rowsA.filter((r) => new Date(r.startedAt!).getTime() > bCreated).length;
      console.log(
        `fair scheduling: user A alone rendered up to ${aloneOverlap} of ${SLOTS} slots at once; ` +
          `B's job started after ${aheadOfB} more of A's (${queuedWhenBAsked} of A's were still waiting when B asked)`,
      );

      expect(rowsA.map((r) => r.status)).toEqual(Array(aIds.length).fill('succeeded'));
      expect(aloneOverlap).toBeGreaterThanOrEqual(5);
      expect(queuedWhenBAsked).toBeGreaterThan(SLOTS); // B really had a backlog ahead of it
      expect(aheadOfB).toBeLessThanOrEqual(SLOTS);
      // One user's own jobs start in the order they were submitted: none starts before a job
      // submitted a whole round (SLOTS jobs) earlier (within a round, slots take jobs at once).
      const starts = rowsA.map((r) => new Date(r.startedAt!).getTime());
      expect(rowsA.map((r) => r.id)).toEqual(aIds);
      expect(starts.every((t, j) => j < SLOTS || t >= Math.max(...starts.slice(0, j - SLOTS + 1)))).toBe(true);
    }, 240_000);
  });

  describe('the optional running cap: PLAN_FREE_MAX_RUNNING_JOBS=2, one worker of concurrency 4', () => {
    const capped = stack({ PLAN_FREE_MAX_RUNNING_JOBS: '2' }, 1, 4);

    it("a free user's 6 jobs never have more than 2 rendering at once, and do reach 2; an unlimited user's are not capped", async () => {
      const u = await new UserFactory(capped.http()).create();
      const big = await new UserFactory(capped.http()).plan('unlimited').create();
      const photo = await jpeg(1200, 900, { seed: 3 });
      const [image, bigImage] = [await uploadImage(u, photo), await uploadImage(big, photo)];
      await submitBlurs(u, image, 6);
      await pollUntil(() => succeededOf(u.id), (n) => n === 6, 60_000, 100);
      await submitBlurs(big, bigImage, 8);
      await pollUntil(() => succeededOf(big.id), (n) => n === 8, 60_000, 100);

      const rows = await rowsOf(u.id);
      const bigRows = await rowsOf(big.id);
      console.log(`running cap: free user at most ${maxOverlap(rows)} at once, unlimited user ${maxOverlap(bigRows)}`);
      expect(rows.map((r) => r.status)).toEqual(Array(6).fill('succeeded'));
      expect(maxOverlap(rows)).toBe(2);
      expect(maxOverlap(bigRows)).toBeGreaterThan(2);
    });
  });
});
