import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

const ROOT = path.resolve(__dirname, '../..');
const RUN_ID = process.env.PIXMILL_TEST_RUN_ID ?? 'local';
const INSTANCE = `test_${RUN_ID}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
const SOAK_DB = `pixmill_soak_${INSTANCE}`;

interface Row {
  process: string;
  series: string;
  start: number | null;
  end: number | null;
  peak: number | null;
  slopePerHour: number | null;
  verdict: string;
}

/**
 * `npm run soak` for half a minute: it starts the whole stack (API, 2 workers, s3rver, its own
 * Redis), drives the mixed load, samples every process and data service and reports each
 * series. What is checked is that it runs, drives every kind of request and reports every
 * column of every process; not how fast, nor the slopes (a half-minute run is all warm-up).
 */
describe('soak (npm run soak -- --minutes 0.5)', () => {
  jest.setTimeout(600_000); // the first run may build dist/ (nest build, vite build)

  afterAll(async () => {
    const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${SOAK_DB}" WITH (FORCE)`);
    await admin.end();
  });

  it('runs the mixed load on the full stack and prints start, end, peak and slope of every series', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'pixmill-soak-test-')), 'soak.json');
    const ran = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(ROOT, 'bench/soak.js'), '--minutes', '0.5', '--interval', '5', '--users', '2', '--instance', INSTANCE, '--out', out],
        { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    if (ran.code !== 0) throw new Error(`soak exited with ${ran.code}\n${ran.stderr.slice(-4000)}\n${ran.stdout.slice(-2000)}`);

    // The table: every column, a row per process and series.
    expect(ran.stdout).toContain('| process | series | start | end | peak | slope after warm-up (/h) | growth over window | verdict |');
    const result = JSON.parse(readFileSync(out, 'utf8'));
    const rows: Row[] = result.summary;
    const expected = [
      ...['api', 'worker-1', 'worker-2', 's3rver (test S3 server)', 'redis-server'].flatMap((p) => [`${p}|RSS MB`, `${p}|open fds`]),
      'redis|used_memory MB',
      'redis|keys',
      'postgres|connections',
    ];
    expect(rows.map((r) => `${r.process}|${r.series}`)).toEqual(expected);
    for (const r of rows) {
      expect(ran.stdout).toContain(`| ${r.process} | ${r.series} |`);
      // Every series was read: its process lived, /proc, INFO and pg_stat_activity answered.
      expect([r.start, r.end, r.peak].every((v) => typeof v === 'number')).toBe(true);
      expect(r.peak!).toBeGreaterThanOrEqual(Math.max(r.start!, r.end!));
      expect(['growing', 'bounded', 'too few samples']).toContain(r.verdict);
    }
    for (const r of rows.filter((x) => x.series === 'RSS MB' || x.series === 'open fds')) expect(r.start!).toBeGreaterThan(0);
    expect(rows.find((r) => r.series === 'connections')!.peak!).toBeGreaterThan(0);

    // Samples: one at the start, one at the end of the load, one after the drain at least.
    expect(result.samples.length).toBeGreaterThanOrEqual(3);
    expect(result.samples[0].t).toBe(0);

    // Every kind of request ran: each user does at least one full cycle.
    const c = result.counts;
    expect(c.uploads).toBeGreaterThanOrEqual(2);
    expect(c.rendersSucceeded).toBeGreaterThanOrEqual(1);
    expect(c.polls).toBeGreaterThanOrEqual(c.rendersAccepted);
    expect(c.reads).toBeGreaterThanOrEqual(1);
    // Each user deletes what it still has at the end: every upload is deleted.
    expect(c.deletes).toBe(c.uploads);
    expect(c.webhooksReceived).toBeGreaterThanOrEqual(1);
    expect(Object.keys(c.requests).every((k) => !/ 5\d\d$/.test(k) || k.endsWith(' 503'))).toBe(true);
    // What the mix cost Redis and PostgreSQL per job was counted.
    expect(result.perJob.jobs).toBe(c.rendersAccepted + c.uploads);
    for (const k of ['redisCommands', 'pgTransactions', 'pgRowsWritten']) expect(result.perJob[k]).toBeGreaterThan(0);
    expect(ran.stdout).toMatch(/per job \(\d+: .*Redis commands, .* PostgreSQL transactions, .* rows written/);
    expect(result.crashes).toEqual([]);
  });
});

describe('soak growth verdict (bench/soak.js summarizeSeries)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { summarizeSeries, leastSquares } = require('../../bench/soak.js');
  const series = (f: (t: number) => number) => Array.from({ length: 60 }, (_, i) => ({ t: i * 10, v: f(i * 10) }));

  it('fits the least-squares slope', () => {
    const fit = leastSquares([
      [0, 1],
      [10, 3],
      [20, 5],
    ]);
    expect(fit.slope).toBeCloseTo(0.2);
    expect(fit.span).toBe(20);
  });

  it('flags a steady rise after the warm-up and nothing else', () => {
    // 100 MB plus 0.1 MB/s: 53 MB over the 530 s after a 60 s warm-up.
    const rising = summarizeSeries(series((t) => 100 + t / 10), (s: { v: number }) => s.v, 10, 60);
    expect(rising.verdict).toBe('growing');
    expect(rising.slopePerHour).toBeCloseTo(360);
    expect(rising.start).toBe(100);
    expect(rising.peak).toBe(159);
    // Warm-up growth, then flat with a sawtooth (a collector at work): bounded.
    const warm = summarizeSeries(series((t) => (t < 60 ? 50 + t : 110 + ((t / 10) % 3) * 4)), (s: { v: number }) => s.v, 10, 60);
    expect(warm.verdict).toBe('bounded');
    // One spike at the end is not a steady rise.
    const spike = summarizeSeries(series((t) => (t === 590 ? 400 : 100)), (s: { v: number }) => s.v, 10, 60);
    expect(spike.verdict).toBe('bounded');
    // A rise below the floor is noise.
    const small = summarizeSeries(series((t) => 100 + t / 200), (s: { v: number }) => s.v, 10, 60);
    expect(small.verdict).toBe('bounded');
  });
});
