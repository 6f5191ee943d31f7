import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { migrate } from '@pixmill/db';
import {
  ApiProcess,
  HttpClient,
  jpeg,
  PrivatePostgres,
  startApiProcess,
  startWorkerProcess,
  uploadForm,
  WorkerProcess,
} from '@pixmill/testing';
import { FlakyReceiver, privateRedis, privateS3, Restartable } from './fault-stack';

/**
 * `npm run test:faults`: the whole stack (API, 2 workers, PostgreSQL, Redis, an S3 server,
 * a webhook receiver; the data services its own, so they can die) under a steady flow of
 * uploads and transformations with webhooks from several users, while faults are injected
 * one after another. Prints a table per fault and fails on any lost job, any job rendered
 * twice, any webhook never delivered, any 5xx other than 503.
 */
jest.setTimeout(280_000);

interface Row {
  statuses: Record<string, number>;
  accepted: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** ts-node compiles each process on start: slow on a loaded machine. */
const START_MS = 120_000;

describe('fault injection', () => {
  let pg: PrivatePostgres;
  let redis: { url: string; proc: Restartable };
  let s3: { env: Record<string, string>; proc: Restartable };
  let receiver: FlakyReceiver;
  let api: ApiProcess;
  const workers: WorkerProcess[] = [];
  const deadWorkerOutput: string[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    [pg, redis, s3, receiver] = await Promise.all([PrivatePostgres.create(), privateRedis(), privateS3(), FlakyReceiver.start()]);
    await migrate(pg.url('pixmill'));
    env = {
      DATABASE_URL: pg.url('pixmill'),
      REDIS_URL: redis.url,
      QUEUE_PREFIX: '{pixmill-faults}',
      ...s3.env,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_SCHEDULE: '0,1s,2s,2s,3s,5s,5s,10s',
      WEBHOOK_TIMEOUT_MS: '2000',
      WORKER_LOCK_DURATION_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '1500',
      RECONCILE_INTERVAL_MS: '1000',
      WORKER_CONCURRENCY: '2',
      LOG_LEVEL: 'info',
    };
    api = await startApiProcess(env, START_MS);
    workers.push(await startWorkerProcess(env, START_MS), await startWorkerProcess(env, START_MS));
  });

  afterAll(async () => {
    await api?.kill();
    for (const w of workers) await w.kill();
    await receiver?.down();
    await redis?.proc.kill();
    await s3?.proc.kill();
    await pg?.destroy();
  });

  it('loses no job, renders none twice, delivers every webhook and answers no 5xx but 503', async () => {
    const client = () => new HttpClient(api.baseUrl);
    // Several users, each with an image to transform.
    const users: Array<{ token: string; imageId: string }> = [];
    for (let i = 0; i < 3; i++) {
      const email = `faults-${randomUUID()}@example.com`;
      const signup = await client().post('/v1/auth/signup', { email, password: 'fault injection password' });
      expect(signup.status).toBe(201);
      // A flow this steady would meet the free plan's daily quota within seconds.
      const db = new Client({ connectionString: pg.url('pixmill') });
      await db.connect();
      await db.query(`UPDATE users SET plan = 'unlimited' WHERE id = $1`, [signup.body.user.id]);
      await db.end();
      const up = await client().as(signup.body.accessToken).request('POST', '/v1/images', { body: uploadForm(await jpeg(320, 240, { seed: i + 1 }), `f${i}.jpg`) });
      expect(up.status).toBe(201);
      users.push({ token: signup.body.accessToken, imageId: up.body.id });
    }

    const table = new Map<string, Row>();
    const accepted: string[] = [];
    /** The fault during which each job was accepted, to name where a failure came from. */
    const acceptedIn = new Map<string, string>();
    const unexpected5xx: string[] = [];
    let phase = 'baseline';
    let width = 40;
    const record = (status: string) => {
      const row = table.get(phase) ?? { statuses: {}, accepted: 0 };
      row.statuses[status] = (row.statuses[status] ?? 0) + 1;
      table.set(phase, row);
    };
    let running = true;
    const flow = async (u: { token: string; imageId: string }, n: number) => {
      let tick = 0;
      while (running) {
        tick++;
        const http = client().as(u.token);
        try {
          const res =
            tick % 5 === 0
              ? await http.request('POST', '/v1/images', { body: uploadForm(await jpeg(96, 64, { seed: tick * 10 + n }), 'flow.jpg') })
              : tick % 3 === 0
                ? await http.get('/v1/me')
                : await http.post(`/v1/images/${u.imageId}/transformations`, { operations: [{ op: 'resize', width: width++ }], output: { format: 'webp' }, webhookUrl: receiver.url });
          record(String(res.status));
          if (res.status >= 500 && res.status !== 503) unexpected5xx.push(`${phase}: ${res.status} ${res.text.slice(0, 200)}`);
          if (res.status === 202 && res.body?.id && !res.body.cached) {
            accepted.push(res.body.id);
            acceptedIn.set(res.body.id, phase);
            table.get(phase)!.accepted++;
          }
        } catch {
          record('no answer'); // the API process is down
        }
        await sleep(150);
      }
    };
    const flows = users.map((u, n) => flow(u, n));
    let replacement: Promise<void> | undefined;
    try {

    const inject = async (name: string, fault: () => Promise<void>, heal: () => Promise<void>, downMs = 3000) => {
      phase = name;
      await fault();
      await sleep(downMs);
      await heal();
      await sleep(3000);
    };

    await sleep(4000);
    await inject('worker SIGKILL mid-render', async () => {
      const w = workers.shift()!;
      await w.kill();
      deadWorkerOutput.push(w.output());
    }, async () => {
      // The replacement starts in the background: the surviving worker carries on meanwhile.
      replacement = startWorkerProcess(env, START_MS).then((w) => void workers.push(w));
    }, 500);
    await inject('Redis crash (data lost)', () => redis.proc.kill(), () => redis.proc.start());
    await inject('PostgreSQL immediate stop', () => pg.stop('immediate'), () => pg.start());
    await inject('API SIGKILL', async () => {
      deadWorkerOutput.push(api.output());
      await api.kill();
    }, async () => void (api = await startApiProcess(env, START_MS)), 500);
    await inject('S3 down', () => s3.proc.kill(), () => s3.proc.start());
    await inject('webhook receiver down', () => receiver.down(), () => receiver.up(), 4000);
    } finally {
      running = false;
      await Promise.all(flows);
      await replacement;
    }
    phase = 'drain';

    // Every accepted job ends succeeded; every success is told to the receiver.
    const deadline = Date.now() + 90_000;
    const final = new Map<string, string>();
    while (Date.now() < deadline && final.size < accepted.length) {
      for (const id of accepted) {
        if (final.has(id)) continue;
        const job = await client().as(users[0].token).get(`/v1/jobs/${id}`).catch(() => undefined);
        // A job belongs to one user: ask as each.
        let status = job?.status === 200 ? job.body.status : undefined;
        for (const u of users.slice(1)) {
          if (status) break;
          const r = await client().as(u.token).get(`/v1/jobs/${id}`).catch(() => undefined);
          if (r?.status === 200) status = r.body.status;
        }
        if (status === 'succeeded' || status === 'failed' || status === 'canceled') final.set(id, status);
      }
      if (final.size < accepted.length) await sleep(1000);
    }
    const lost = accepted.filter((id) => final.get(id) !== 'succeeded').map((id) => `${id} ${final.get(id) ?? 'not final'} (accepted during ${acceptedIn.get(id)})`);

    // Rendered twice: more than one succeeded render log line for a job, across every worker that ever ran.
    const outputs = [...deadWorkerOutput, ...workers.map((w) => w.output())].join('\n');
    const renders = new Map<string, number>();
    for (const line of outputs.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const l = JSON.parse(line) as { job?: string; outcome?: string; jobId?: string };
        if (l.job === 'transform' && l.outcome === 'succeeded' && l.jobId) renders.set(l.jobId, (renders.get(l.jobId) ?? 0) + 1);
      } catch {
        // partial line
      }
    }
    const twice = [...renders].filter(([, n]) => n > 1).map(([id]) => `${id} (accepted during ${acceptedIn.get(id) ?? 'setup'})`);
    // What every process logged about a job counted twice, so a failure can be read without a rerun.
    for (const [id, n] of renders) {
      if (n > 1) console.log(`job ${id}, ${n} succeeded runs:\n${outputs.split('\n').filter((line) => line.includes(id)).join('\n')}`);
    }
    // A job not final: its row as PostgreSQL has it, and what every process logged about it.
    if (lost.length) {
      const db = new Client({ connectionString: pg.url('pixmill') });
      await db.connect();
      try {
        for (const id of accepted.filter((i) => final.get(i) !== 'succeeded')) {
          const row = await db.query('SELECT * FROM jobs WHERE id = $1', [id]);
          console.log(`job ${id} not succeeded; row: ${JSON.stringify(row.rows[0])}\n${[outputs, api.output()].join('\n').split('\n').filter((line) => line.includes(id)).join('\n')}`);
        }
      } finally {
        await db.end();
      }
    }
    const wDeadline = Date.now() + 40_000;
    const undelivered = () => accepted.filter((id) => final.get(id) === 'succeeded' && !receiver.bodies.some((b) => b.includes(id)));
    while (undelivered().length && Date.now() < wDeadline) await sleep(500);
    const neverDelivered = undelivered();

    const lines = [
      `${'fault'.padEnd(28)} ${'requests by status'.padEnd(40)} accepted lost twice undelivered 5xx≠503`,
      ...[...table].map(([name, row]) =>
        `${name.padEnd(28)} ${Object.entries(row.statuses).map(([s, n]) => `${s}:${n}`).join(' ').padEnd(40)} ${String(row.accepted).padStart(8)}`,
      ),
      `${'total'.padEnd(28)} ${''.padEnd(40)} ${String(accepted.length).padStart(8)} ${String(lost.length).padStart(4)} ${String(twice.length).padStart(5)} ${String(neverDelivered.length).padStart(11)} ${String(unexpected5xx.length).padStart(7)}`,
    ];
    console.log(`\nfault injection\n${lines.join('\n')}\n`);

    expect(accepted.length).toBeGreaterThan(20);
    expect({ lost, twice, neverDelivered, unexpected5xx }).toEqual({ lost: [], twice: [], neverDelivered: [], unexpected5xx: [] });
  });
});
