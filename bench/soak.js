#!/usr/bin/env node
// `npm run soak [-- --minutes 30] [--interval 10] [--warmup M] [--users 4] [--storage s3|local]
//                 [--think MS] [--keep N] [--instance NAME] [--out FILE] [--no-build]`
//
// Pixmill's soak (issue 16): the full stack (API, 2 workers, an S3 server in its own process
// or local storage, a Redis of its own, the local PostgreSQL) under a steady mix of uploads,
// renders with webhooks (to a receiver in this process), polls, reads and deletes from several
// users, for --minutes (fractions allowed: 0.5 is 30 s). Every --interval seconds it samples
// each process's RSS and open file descriptors (/proc/PID/status, /proc/PID/fd), Redis'
// used_memory and key count (INFO memory, DBSIZE) and the PostgreSQL connections to the soak's
// database (pg_stat_activity). It prints start / end / peak of each series and its slope: a
// least-squares line over the samples after the warm-up. A series is flagged `growing` when
// that line rises over the window by more than both its floor (FLOORS) and 10 % of the mean,
// and the median of the window's last quarter is above that of its first quarter by more than
// the floor (one spike is not growth). Nothing here asserts on speed: the table is the result.
//
// Writes every sample and count to bench/results/soak-<ISO date>.json (or --out).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { startStack, freePort } = require('./lib/stack');
const { photoJpeg } = require('./lib/images');
const { root } = require('../scripts/ensure-build');

const USAGE =
  'usage: node bench/soak.js [--minutes 30] [--interval 10] [--warmup MINUTES] [--users 4] [--storage s3|local] [--think MS] [--keep N] [--instance NAME] [--out FILE] [--no-build]';

/** Below these a rise is noise, whatever the slope (units of each series). */
const FLOORS = { rssMb: 10, fds: 10, usedMemoryMb: 2, keys: 200, connections: 2 };

function parseArgs(argv) {
  const o = { minutes: 30, interval: 10, warmup: null, users: 4, storage: 's3', think: 500, keep: 3, instance: 'run', out: null, build: true };
  const bad = (msg) => {
    process.stderr.write(`${msg}\n${USAGE}\n`);
    process.exit(2);
  };
  const args = argv.flatMap((a) => (/^--[a-z-]+=/.test(a) ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
  const num = (name, v, min) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) bad(`--${name} must be a number ≥ ${min}, not ${v}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--minutes') o.minutes = num('minutes', args[++i], 0.05);
    else if (a === '--interval') o.interval = num('interval', args[++i], 0.5);
    else if (a === '--warmup') o.warmup = num('warmup', args[++i], 0);
    else if (a === '--users') o.users = Math.round(num('users', args[++i], 0)); // 0: the stack idle
    else if (a === '--think') o.think = num('think', args[++i], 0);
    else if (a === '--keep') o.keep = Math.round(num('keep', args[++i], 0));
    else if (a === '--storage') {
      o.storage = args[++i];
      if (!['s3', 'local'].includes(o.storage)) bad(`--storage must be s3 or local, not ${o.storage}`);
    } else if (a === '--instance') {
      o.instance = args[++i] ?? '';
      if (!/^[a-z0-9_]+$/.test(o.instance)) bad('--instance takes lower-case letters, digits and _');
    } else if (a === '--out') o.out = args[++i];
    else if (a === '--no-build') o.build = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else bad(`unknown option ${a}`);
  }
  // Default warm-up: a fifth of the run, at most 5 minutes (JIT, pools and caches filling).
  if (o.warmup === null) o.warmup = Math.min(5, o.minutes / 5);
  if (o.warmup >= o.minutes) bad('--warmup must be shorter than --minutes');
  return o;
}

const log = (msg) => process.stderr.write(`soak: ${new Date().toISOString().slice(11, 19)} ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (n, d = 1) => (n === null || n === undefined || Number.isNaN(n) ? null : Number(n.toFixed(d)));

// ---------------------------------------------------------------- the private data services

function waitUntil(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    for (;;) {
      try {
        if (await probe()) return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s`);
      await sleep(200);
    }
  })();
}

/** A Redis of the soak's own, so its memory is the stack's alone (no persistence). */
async function startRedis() {
  const IORedis = require(require.resolve('ioredis', { paths: [root] }));
  const port = await freePort();
  const child = own(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
  const spawnError = new Promise((_, reject) => child.once('error', (err) => reject(new Error(`redis-server: ${err.message} (is it installed?)`))));
  const url = `redis://127.0.0.1:${port}/0`;
  await Promise.race([
    spawnError,
    waitUntil(async () => {
      const c = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } finally {
        c.disconnect();
      }
    }, 30_000, 'redis-server'),
  ]);
  const client = new IORedis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return { url, pid: child.pid, client, stop: () => stopChild(child, () => client.disconnect()) };
}

/** s3rver in its own process (as the fault suite runs it), so its memory is not this process's. */
async function startS3() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixmill-soak-s3-'));
  const bucket = 'pixmill-soak';
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver encrypts listing tokens with DES: OpenSSL's legacy provider.
  const child = own(spawn(process.execPath, ['--openssl-legacy-provider', path.join(root, 'test/faults/s3rver.process.js'), String(port), dir, bucket], { cwd: root, stdio: 'ignore' }));
  await waitUntil(async () => (await fetch(`${endpoint}/${bucket}`)).status < 500, 30_000, 's3rver');
  return {
    pid: child.pid,
    env: {
      STORAGE_DRIVER: 's3',
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    },
    stop: () => stopChild(child, () => fs.rmSync(dir, { recursive: true, force: true })),
  };
}

/** Our own children (Redis, s3rver): killed when this process exits, however it exits. */
const ownChildren = new Set();
process.on('exit', () => ownChildren.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL')));
function own(child) {
  ownChildren.add(child);
  child.once('exit', () => ownChildren.delete(child));
  return child;
}

function stopChild(child, after = () => {}) {
  return new Promise((resolve) => {
    const done = () => {
      after();
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', done);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

/** Receives the renders' webhooks (a retry is a second body of the same job). */
async function startReceiver() {
  const port = await freePort();
  const ids = new Set();
  let bodies = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      bodies++;
      // Every id in the body (event, job, image): a job counts as told when its id is among them.
      for (const m of Buffer.concat(chunks).toString('utf8').matchAll(/"id"\s*:\s*"([^"]+)"/g)) ids.add(m[1]);
      res.writeHead(200).end('ok');
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}/hooks/soak`,
    ids,
    bodies: () => bodies,
    stop: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
}

// ---------------------------------------------------------------- sampling

function processSample(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1]);
    return { rssMb: round(kb / 1024, 1), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return { rssMb: null, fds: null }; // the process is gone
  }
}

async function dataSample(redis, pg, database) {
  const out = { usedMemoryMb: null, keys: null, connections: null, redisCommands: null, redisCpuSeconds: null, pgTransactions: null, pgRowsWritten: null };
  try {
    const info = await redis.client.info();
    out.usedMemoryMb = round(Number(info.match(/^used_memory:(\d+)/m)?.[1]) / 1024 / 1024, 2);
    // Every command the server ran, the sampler's own two per sample (INFO, DBSIZE) included.
    out.redisCommands = Number(info.match(/^total_commands_processed:(\d+)/m)?.[1]);
    // Redis' own CPU (user + system seconds of the server process).
    out.redisCpuSeconds = Number(info.match(/^used_cpu_user:([\d.]+)/m)?.[1]) + Number(info.match(/^used_cpu_sys:([\d.]+)/m)?.[1]);
    out.keys = await redis.client.dbsize();
  } catch {
    // Redis unreachable: the sample says null
  }
  try {
    const { rows } = await pg.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database]);
    out.connections = rows[0].n;
    // Transactions (each statement outside BEGIN … COMMIT is one) and rows written, in the soak's database.
    const db = await pg.query('SELECT (xact_commit + xact_rollback)::bigint AS x, (tup_inserted + tup_updated + tup_deleted)::bigint AS w FROM pg_stat_database WHERE datname = $1', [database]);
    out.pgTransactions = Number(db.rows[0]?.x ?? NaN);
    out.pgRowsWritten = Number(db.rows[0]?.w ?? NaN);
  } catch {
    // PostgreSQL unreachable: null
  }
  return out;
}

/** Calls per Redis command so far (INFO commandstats). */
async function commandStats(redis) {
  try {
    const info = await redis.client.info('commandstats');
    return Object.fromEntries([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
  } catch {
    return null;
  }
}

/** Least-squares slope (per second) and intercept of y over t; null with fewer than 3 points. */
function leastSquares(points) {
  const p = points.filter(([, y]) => y !== null && y !== undefined);
  if (p.length < 3) return null;
  const n = p.length;
  const mt = p.reduce((s, [t]) => s + t, 0) / n;
  const my = p.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of p) {
    num += (t - mt) * (y - my);
    den += (t - mt) ** 2;
  }
  if (den === 0) return null;
  return { slope: num / den, mean: my, span: p[n - 1][0] - p[0][0] };
}

function summarizeSeries(samples, get, floor, warmupSeconds) {
  const all = samples.map((s) => [s.t, get(s)]).filter(([, y]) => y !== null && y !== undefined);
  if (!all.length) return { start: null, end: null, peak: null, slopePerHour: null, windowGrowth: null, verdict: 'no data' };
  const after = all.filter(([t]) => t >= warmupSeconds);
  const fit = leastSquares(after);
  const base = { start: all[0][1], end: all[all.length - 1][1], peak: Math.max(...all.map(([, y]) => y)), samplesAfterWarmup: after.length };
  if (!fit) return { ...base, slopePerHour: null, windowGrowth: null, verdict: 'too few samples' };
  const growth = fit.slope * fit.span;
  const q = Math.max(1, Math.floor(after.length / 4));
  const median = (xs) => {
    const v = xs.map(([, y]) => y).sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const quarterRise = median(after.slice(-q)) - median(after.slice(0, q));
  const growing = growth > Math.max(floor, 0.1 * Math.abs(fit.mean)) && quarterRise > floor;
  return { ...base, slopePerHour: fit.slope * 3600, windowGrowth: growth, quarterRise, verdict: growing ? 'growing' : 'bounded' };
}

// ---------------------------------------------------------------- load

class Counts {
  constructor() {
    this.requests = {}; // "op status" → n
    this.uploads = 0;
    this.deletes = 0;
    this.rendersAccepted = 0;
    this.rendersSucceeded = 0;
    this.rendersFailed = 0;
    this.cacheHits = 0;
    this.polls = 0;
    this.reads = 0;
    this.noAnswer = 0;
    this.webhookJobs = new Set(); // jobs that asked for a webhook and succeeded
  }
  note(op, status) {
    const k = `${op} ${status}`;
    this.requests[k] = (this.requests[k] ?? 0) + 1;
  }
}

class User {
  constructor(baseUrl, token, counts, images) {
    this.baseUrl = baseUrl;
    this.auth = { authorization: `Bearer ${token}` };
    this.counts = counts;
    this.images = images;
    this.owned = []; // image ids, oldest first
    this.cycle = 0;
  }
  async req(op, method, p, { json, form } = {}) {
    let res;
    try {
      res = await fetch(`${this.baseUrl}${p}`, {
        method,
        headers: json ? { ...this.auth, 'content-type': 'application/json' } : this.auth,
        body: json ? JSON.stringify(json) : form,
        signal: AbortSignal.timeout(60_000),
      });
    } catch {
      this.counts.noAnswer++;
      this.counts.note(op, 'no answer');
      return { status: 0, body: null };
    }
    const text = await res.text();
    this.counts.note(op, res.status);
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    return { status: res.status, body };
  }
  /** One cycle: upload, three renders with a webhook (each polled to the end), reads, delete the oldest beyond --keep. */
  async runCycle(webhookUrl, keep) {
    const n = this.cycle++;
    const form = new FormData();
    form.append('file', new Blob([this.images[n % this.images.length]], { type: 'image/jpeg' }), `soak-${n}.jpg`);
    const up = await this.req('upload', 'POST', '/v1/images', { form });
    if (up.status === 201 && up.body?.id) {
      this.owned.push(up.body.id);
      this.counts.uploads++;
    }
    const imageId = this.owned[this.owned.length - 1];
    if (imageId) {
      for (let k = 0; k < 3; k++) {
        const spec = { operations: [{ op: 'resize', width: 320 - k * 40 - (n % 7) }], output: { format: ['webp', 'jpeg', 'png'][k], ...(k < 2 ? { quality: 75 } : {}) }, webhookUrl };
        const sub = await this.req('render', 'POST', `/v1/images/${imageId}/transformations`, { json: spec });
        if (sub.status === 200 && sub.body?.cached) this.counts.cacheHits++;
        if (sub.status !== 202 || !sub.body?.id) continue;
        this.counts.rendersAccepted++;
        const id = sub.body.id;
        await this.req('poll', 'GET', `/v1/jobs/${id}`); // a short poll right away
        this.counts.polls++;
        for (let tries = 0; tries < 20; tries++) {
          const job = await this.req('poll', 'GET', `/v1/jobs/${id}?wait=30`);
          this.counts.polls++;
          const st = job.body?.status;
          if (st === 'succeeded') {
            this.counts.rendersSucceeded++;
            this.counts.webhookJobs.add(id);
            break;
          }
          if (st === 'failed' || st === 'canceled') {
            this.counts.rendersFailed++;
            break;
          }
          if (job.status !== 200) await sleep(500);
        }
      }
      await this.req('image', 'GET', `/v1/images/${imageId}`);
      this.counts.reads++;
    }
    if (n % 2 === 0) {
      await this.req('list', 'GET', '/v1/images?limit=20');
      await this.req('me', 'GET', '/v1/me');
      this.counts.reads += 2;
    }
    while (this.owned.length > keep) await this.remove(this.owned.shift());
  }
  async remove(id) {
    const del = await this.req('delete', 'DELETE', `/v1/images/${id}`);
    if (del.status === 204) this.counts.deletes++;
  }
}

// ---------------------------------------------------------------- report

const SERIES = [
  ['rssMb', 'RSS MB'],
  ['fds', 'open fds'],
];

function table(summary) {
  const fmt = (n, d = 1) => (n === null || n === undefined ? '–' : Number(n).toFixed(d));
  const lines = [
    '| process | series | start | end | peak | slope after warm-up (/h) | growth over window | verdict |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of summary) {
    const d = row.series === 'open fds' || row.series === 'keys' || row.series === 'connections' ? 0 : 1;
    lines.push(`| ${row.process} | ${row.series} | ${fmt(row.start, d)} | ${fmt(row.end, d)} | ${fmt(row.peak, d)} | ${fmt(row.slopePerHour, 1)} | ${fmt(row.windowGrowth, 1)} | ${row.verdict} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const started = new Date();
  const database = `pixmill_soak_${o.instance}`;
  const cleanups = [];
  const cleanup = async () => {
    while (cleanups.length) await cleanups.pop()().catch((err) => log(`cleanup: ${err.message}`));
  };
  let stopping = false;
  const onSignal = (sig) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping`);
    cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    log(`${o.minutes} min of load, samples every ${o.interval} s, warm-up ${round(o.warmup, 2)} min, ${o.users} users, storage ${o.storage}`);
    const redis = await startRedis();
    cleanups.push(redis.stop);
    const s3 = o.storage === 's3' ? await startS3() : null;
    if (s3) cleanups.push(s3.stop);
    const receiver = await startReceiver();
    cleanups.push(receiver.stop);

    const stack = await startStack({
      workers: 2,
      database,
      queuePrefix: `{pixmill-soak-${o.instance}}`,
      build: o.build,
      env: {
        REDIS_URL: redis.url,
        ...(s3 ? s3.env : {}),
        WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
        WORKER_CONCURRENCY: '2',
      },
      log: (m) => log(`stack: ${m}`),
    });
    // The stack's own SIGINT/SIGTERM handler stops it; ours stops the rest.
    cleanups.push(stack.stop);

    const { Client } = require(require.resolve('pg', { paths: [root] }));
    const admin = new URL(stack.env.DATABASE_URL);
    admin.pathname = '/postgres';
    const pg = new Client({ connectionString: admin.toString() });
    await pg.connect();
    cleanups.push(() => pg.end());

    const processes = [
      { name: 'api', pid: stack.apiPid },
      ...stack.workerPids.map((pid, i) => ({ name: `worker-${i + 1}`, pid })),
      ...(s3 ? [{ name: 's3rver (test S3 server)', pid: s3.pid }] : []),
      { name: 'redis-server', pid: redis.pid },
    ];
    log(`processes: ${processes.map((p) => `${p.name} ${p.pid}`).join(', ')}`);

    // Inputs: a handful of small photo-like JPEGs, each uploaded again and again.
    const images = [];
    for (let i = 0; i < 6; i++) images.push(await photoJpeg(640 + i * 16, 480, 100 + i));

    const counts = new Counts();
    const users = [];
    for (let i = 0; i < o.users; i++) users.push(new User(stack.baseUrl, await stack.signup(), counts, images));

    // Sampling: one at t=0, then every interval, one at the end of the load and one after the drain.
    const t0 = Date.now();
    const samples = [];
    const sample = async (phase) => {
      const t = (Date.now() - t0) / 1000;
      const procs = Object.fromEntries(processes.map((p) => [p.name, processSample(p.pid)]));
      samples.push({ t: round(t, 1), phase, processes: procs, ...(await dataSample(redis, pg, database)) });
    };
    const statsAtStart = await commandStats(redis);
    await sample('load');
    let sampling = true;
    const sampler = (async () => {
      let next = t0 + o.interval * 1000;
      while (sampling) {
        await sleep(Math.max(0, next - Date.now()));
        if (!sampling) break;
        await sample('load');
        next += o.interval * 1000;
      }
    })();
    let lastReport = Date.now();

    // Load: every user runs cycles until the time is up (at least one each).
    const endAt = t0 + o.minutes * 60_000;
    await Promise.all(
      users.map(async (u) => {
        do {
          await u.runCycle(receiver.url, o.keep);
          if (Date.now() - lastReport > 60_000) {
            lastReport = Date.now();
            log(`${Math.round((Date.now() - t0) / 1000)} s: ${counts.uploads} uploads, ${counts.rendersSucceeded} renders, ${[...counts.webhookJobs].filter((id) => receiver.ids.has(id)).length} webhooks, ${counts.deletes} deletes`);
          }
          if (o.think) await sleep(o.think);
        } while (Date.now() < endAt && !stack.crashed());
      }),
    );
    // --users 0: the stack idle for the whole time (what the workers' polling costs Redis).
    if (!users.length) await sleep(Math.max(0, endAt - Date.now()));
    sampling = false;
    await sampler;
    await sample('end of load');
    const statsAtEnd = await commandStats(redis);
    const loadSeconds = (Date.now() - t0) / 1000;

    // Drain: every user deletes what it still has, and the webhooks still on their way arrive.
    for (const u of users) while (u.owned.length) await u.remove(u.owned.shift());
    const drainUntil = Date.now() + 120_000;
    while (Date.now() < drainUntil && [...counts.webhookJobs].some((id) => !receiver.ids.has(id))) await sleep(500);
    await sample('after drain');

    const warmupSeconds = o.warmup * 60;
    const summary = [];
    for (const p of processes) {
      for (const [key, label] of SERIES) summary.push({ process: p.name, series: label, ...summarizeSeries(samples, (s) => s.processes[p.name][key], FLOORS[key], warmupSeconds) });
    }
    summary.push({ process: 'redis', series: 'used_memory MB', ...summarizeSeries(samples, (s) => s.usedMemoryMb, FLOORS.usedMemoryMb, warmupSeconds) });
    summary.push({ process: 'redis', series: 'keys', ...summarizeSeries(samples, (s) => s.keys, FLOORS.keys, warmupSeconds) });
    summary.push({ process: 'postgres', series: 'connections', ...summarizeSeries(samples, (s) => s.connections, FLOORS.connections, warmupSeconds) });

    // Per job of this mix (every render asked for, plus the thumbnail each upload renders): what
    // the load cost Redis and PostgreSQL between the first sample and the end of the load, with
    // its polls, reads, deletes and webhook deliveries, and the workers' idle polling.
    const first = samples[0];
    const endOfLoad = samples.find((s) => s.phase === 'end of load');
    const jobs = counts.rendersAccepted + counts.uploads;
    const per = (k, own = 0) => (first[k] === null || endOfLoad[k] === null || !jobs ? null : round((endOfLoad[k] - first[k] - own) / jobs, 2));
    const perJob = {
      jobs,
      redisCommands: per('redisCommands', 2 * (samples.indexOf(endOfLoad) + 1)),
      pgTransactions: per('pgTransactions'),
      pgRowsWritten: per('pgRowsWritten'),
      redisCpuMs: first.redisCpuSeconds === null || endOfLoad.redisCpuSeconds === null || !jobs ? null : round(((endOfLoad.redisCpuSeconds - first.redisCpuSeconds) * 1000) / jobs, 2),
      // Redis commands per job by command, most called first (INFO commandstats: the commands Lua
      // scripts call are counted too, as is the sampler's INFO and DBSIZE).
      redisByCommand:
        statsAtStart && statsAtEnd && jobs
          ? Object.fromEntries(
              Object.entries(statsAtEnd)
                .map(([k, v]) => [k, round((v - (statsAtStart[k] ?? 0)) / jobs, 2)])
                .filter(([, v]) => v > 0)
                .sort((a, b) => b[1] - a[1]),
            )
          : null,
      // The same over the load's seconds: the part the workers' idle polling sets, whatever the rate.
      redisCommandsPerSecond: first.redisCommands === null || endOfLoad.redisCommands === null ? null : round((endOfLoad.redisCommands - first.redisCommands) / ((endOfLoad.t - first.t) || 1), 1),
    };
    const missingWebhooks = [...counts.webhookJobs].filter((id) => !receiver.ids.has(id)).length;
    const result = {
      startedAt: started.toISOString(),
      settings: { ...o, floors: FLOORS, machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((x) => round(x, 2)), memoryGb: round(os.totalmem() / 1024 ** 3, 1) } },
      loadSeconds: round(loadSeconds, 1),
      counts: {
        uploads: counts.uploads,
        rendersAccepted: counts.rendersAccepted,
        rendersSucceeded: counts.rendersSucceeded,
        rendersFailed: counts.rendersFailed,
        cacheHits: counts.cacheHits,
        polls: counts.polls,
        reads: counts.reads,
        deletes: counts.deletes,
        webhooksReceived: counts.webhookJobs.size - missingWebhooks,
        webhookBodies: receiver.bodies(),
        webhooksMissing: missingWebhooks,
        noAnswer: counts.noAnswer,
        requests: counts.requests,
      },
      perJob,
      crashes: stack.crashes(),
      summary: summary.map((r) => ({ ...r, slopePerHour: round(r.slopePerHour, 2), windowGrowth: round(r.windowGrowth, 2), quarterRise: round(r.quarterRise, 2) })),
      samples,
    };
    const out = o.out ?? path.join(root, 'bench/results', `soak-${started.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

    const c = result.counts;
    process.stdout.write(
      `\nPixmill soak: ${round(loadSeconds / 60, 2)} min of load, ${samples.length} samples every ${o.interval} s, slope over samples after ${round(o.warmup, 2)} min of warm-up\n` +
        `${c.uploads} uploads, ${c.rendersSucceeded}/${c.rendersAccepted} renders succeeded (${c.rendersFailed} failed, ${c.cacheHits} cache hits), ${c.polls} polls, ${c.reads} reads, ${c.deletes} deletes, ` +
        `${c.webhooksReceived} webhooks received (${c.webhooksMissing} missing), ${c.noAnswer} requests without an answer\n` +
        `per job (${perJob.jobs}: renders plus upload thumbnails, with this mix's polls, reads, deletes and webhooks): ${perJob.redisCommands} Redis commands, ${perJob.pgTransactions} PostgreSQL transactions, ${perJob.pgRowsWritten} rows written, ${perJob.redisCpuMs} ms of Redis CPU; Redis ${perJob.redisCommandsPerSecond} commands/s (top: ${Object.entries(perJob.redisByCommand ?? {}).slice(0, 6).map(([k, v]) => `${k} ${v}`).join(', ')})\n` +
        `requests: ${Object.entries(c.requests).map(([k, v]) => `${k}: ${v}`).join(', ')}\n\n` +
        `${table(summary)}\n\n` +
        `${summary.some((r) => r.verdict === 'growing') ? 'steady growth: ' + summary.filter((r) => r.verdict === 'growing').map((r) => `${r.process} ${r.series}`).join(', ') : 'no steady growth after the warm-up'}\n` +
        (result.crashes.length ? `crashes: ${result.crashes.join('; ')}\n` : '') +
        `results: ${path.relative(process.cwd(), out)}\n`,
    );
    await cleanup();
    process.exit(result.crashes.length ? 1 : 0);
  } catch (err) {
    log(err.stack ?? err.message);
    await cleanup();
    process.exit(1);
  }
}

if (require.main === module) main();

module.exports = { leastSquares, summarizeSeries, FLOORS };
