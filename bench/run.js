#!/usr/bin/env node
// `npm run bench [-- --quick] [--no-build] [--no-doc|--doc] [--storage local|s3] [--read-cache on|off]
//                  [--profile|--profile-api] [--instance NAME] [--only w1,w3,...]`
//
// Pixmill's benchmark (issue 7). Starts a private stack (bench/lib/stack.js: API, worker(s),
// local PostgreSQL and Redis, local storage), generates its inputs deterministically with
// sharp, runs the scenarios side by side with their baselines, prints a table, writes
// bench/results/<ISO date>.json (rewritten after every scenario, so a stopped run keeps what
// it measured) and bench/results/chart.svg, and, for a full run, the results block of
// BENCHMARKS.md.
//
// Scenarios: W1 (sharp's benchmark task vs raw sharp, and the CPU each job costs each process),
// W3 (orchestration overhead), API (autocannon), peers (ImageMagick, vipsthumbnail), scale-out
// (1 worker × 2 vs 2 × 1), fleet (fair scheduling on 3 workers × 2), W2 (upload with three eager
// derivatives) with worker memory, API upload memory.
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { cpuWindow, nodeThreadRoles, postgresProcesses, postmasterPids, processCpuMs, redisPids, ticksPerSecond, HAS_SCHEDSTAT } = require('./lib/cpu');
const { startStack } = require('./lib/stack');
const { summarize } = require('./lib/profile-summary');
const { photoJpeg, photoPng, sharp } = require('./lib/images');
const { root } = require('../scripts/ensure-build');

const autocannon = require(require.resolve('autocannon', { paths: [root] }));

const GOALS = { w1Ratio: 0.9, w3P50: 15, w3P99: 50, pollRps: 3000, pollP99: 25, orchestrationCpuMs: 5 };
const SCENARIOS = ['w1', 'w3', 'api', 'peers', 'scale', 'fleet', 'w2', 'upload', 'w4'];

// ---------------------------------------------------------------- options

const USAGE = `usage: node bench/run.js [--quick] [--no-build] [--doc|--no-doc] [--storage local|s3] [--read-cache on|off] [--profile|--profile-api] [--worker-concurrency=N] [--sharp-concurrency=N] [--env=KEY=VALUE …] [--instance=NAME] [--only=${SCENARIOS.join(',')}]`;

function parseArgs(argv) {
  const o = { quick: false, build: true, doc: null, profile: null, only: null, storage: 'local', readCache: true, workerConcurrency: null, sharpConcurrency: null, env: {}, instance: 'run' };
  const bad = (msg) => {
    process.stderr.write(`${msg}\n${USAGE}\n`);
    process.exit(2);
  };
  // `--name value` and `--name=value` both work for the options that take a value.
  const args = argv.flatMap((a) => (/^--(storage|read-cache|only|worker-concurrency|sharp-concurrency|env|instance)=/.test(a) ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--doc') o.doc = true;
    else if (a === '--no-doc') o.doc = false;
    else if (a === '--profile') o.profile = 'all'; // API and worker processes
    else if (a === '--profile-api') o.profile = 'api';
    else if (a === '--only') o.only = (args[++i] ?? '').split(',');
    else if (a === '--storage') {
      o.storage = args[++i];
      if (!['local', 's3'].includes(o.storage)) bad(`--storage must be local or s3, not ${o.storage}`);
    } else if (a === '--read-cache') {
      const v = args[++i];
      if (!['on', 'off'].includes(v)) bad(`--read-cache must be on or off, not ${v}`);
      o.readCache = v === 'on';
    } else if (a === '--sharp-concurrency') {
      o.sharpConcurrency = Number(args[++i]);
      if (!Number.isInteger(o.sharpConcurrency) || o.sharpConcurrency < 1) bad('--sharp-concurrency must be a positive integer');
    } else if (a === '--env') {
      // Extra settings for the API and worker processes, e.g. --env=UV_THREADPOOL_SIZE=8 (recorded in settings.env).
      const kv = args[++i] ?? '';
      if (!/^[A-Z_][A-Z0-9_]*=/.test(kv)) bad(`--env takes KEY=VALUE, not ${kv}`);
      o.env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
    } else if (a === '--instance') {
      // Another database and queue prefix (pixmill_bench_<name>, {pixmill-bench-<name>}), so two
      // checkouts can be benched side by side without dropping each other's data.
      o.instance = args[++i] ?? '';
      if (!/^[a-z0-9_]+$/.test(o.instance)) bad('--instance takes lower-case letters, digits and _');
    } else if (a === '--worker-concurrency') {
      o.workerConcurrency = Number(args[++i]);
      if (!Number.isInteger(o.workerConcurrency) || o.workerConcurrency < 1) bad('--worker-concurrency must be a positive integer');
    } else bad(`unknown option ${a}`);
  }
  if (o.doc === null) o.doc = !o.quick; // BENCHMARKS.md holds a full run unless asked
  return o;
}

function settingsFor(quick) {
  return quick
    ? { mode: 'quick', workerConcurrency: 2, sharpConcurrency: 1, w1RawOps: 24, w1Jobs: 48, w3Rate: 20, w3Seconds: 5, apiConnections: 50, apiSeconds: 3, apiWarmupSeconds: 2, peerOps: 8, scaleJobs: 40, w2Seconds: 10, w2Uploaders: 2, w4Jobs: 4, memoryWindowSeconds: 5, uploadMemory: { uploads: 10, mb: 10 }, fleetBurst: 40, fleetTrials: 1 }
    : { mode: 'full', workerConcurrency: 2, sharpConcurrency: 1, w1RawOps: 120, w1Jobs: 300, w3Rate: 20, w3Seconds: 30, apiConnections: 50, apiSeconds: 10, apiWarmupSeconds: 3, peerOps: 40, scaleJobs: 200, w2Seconds: 120, w2Uploaders: 2, w4Jobs: 20, memoryWindowSeconds: 30, uploadMemory: { uploads: 50, mb: 10 }, fleetBurst: 40, fleetTrials: 3 };
}

// ---------------------------------------------------------------- helpers

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const r1 = (n) => (n === null || n === undefined || Number.isNaN(n) ? null : Number(n.toFixed(1)));
const r2 = (n) => (n === null || n === undefined || Number.isNaN(n) ? null : Number(n.toFixed(2)));
const r3 = (n) => (n === null || n === undefined || Number.isNaN(n) ? null : Number(n.toFixed(3)));

/** Nearest-rank percentile of an unsorted array. */
function pct(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const median = (v) => pct(v, 50);

/** Runs fn(i) for i in [0, n) with at most `limit` in flight. */
async function pool(n, limit, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/**
 * One JSON request over node:http with a keep-alive agent. The bench client's CPU is counted in
 * W1's orchestration (w1.cpuMsPerJob.benchClient), and global fetch costs several times as much
 * CPU per request as a plain http request does, which would charge the client's choice to Pixmill.
 */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 256 });
function httpJson(url, method, headers, body) {
  const payload = body ? JSON.stringify(body) : null;
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, agent: keepAlive, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          let parsed = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // not JSON (an empty 204, a proxy's HTML): the status says enough
          }
          resolve({ status: res.statusCode, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload ?? undefined);
  });
}

class Api {
  static retries = {};
  constructor(baseUrl, token) {
    this.baseUrl = baseUrl;
    this.auth = { authorization: `Bearer ${token}` };
  }
  async json(method, p, body, expect) {
    // A 503 (a dependency slow to answer on a busy machine) or 429 is retried a few times and
    // counted in `retries`, so one hiccup does not end the run; the counts are in the results.
    let res;
    let data;
    for (let attempt = 0; ; attempt++) {
      res = await httpJson(`${this.baseUrl}${p}`, method, this.auth, body);
      data = res.body;
      if (!(res.status === 503 || res.status === 429) || attempt >= 5) break;
      Api.retries[`${res.status} ${data.code ?? ''}`.trim()] = (Api.retries[`${res.status} ${data.code ?? ''}`.trim()] || 0) + 1;
      await sleep(200 * (attempt + 1));
    }
    if (expect && !expect.includes(res.status)) throw new Error(`${method} ${p}: HTTP ${res.status} ${JSON.stringify(data).slice(0, 300)}`);
    return data;
  }
  async upload(buf, name, type, eager) {
    const form = new FormData();
    form.append('file', new Blob([buf], { type }), name);
    if (eager) form.append('eager', JSON.stringify(eager));
    const res = await fetch(`${this.baseUrl}/v1/images`, { method: 'POST', headers: this.auth, body: form });
    const data = await res.json().catch(() => ({}));
    if (res.status !== 201) throw new Error(`upload: HTTP ${res.status} ${JSON.stringify(data).slice(0, 300)}`);
    return data;
  }
  submit(imageId, spec) {
    return this.json('POST', `/v1/images/${imageId}/transformations`, spec, [200, 202]);
  }
  /** Long-polls a job until it is final; throws unless it succeeded. */
  async waitJob(id) {
    for (;;) {
      const job = await this.json('GET', `/v1/jobs/${id}?wait=30`, null, [200]);
      if (job.status === 'succeeded') return job;
      if (job.status === 'failed' || job.status === 'canceled') throw new Error(`job ${id} ${job.status}: ${JSON.stringify(job.error)}`);
    }
  }
  /** Waits for the upload thumbnails to exist, so timed runs do not share the worker with them. */
  async waitThumbnails(ids, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    for (const id of ids) {
      for (;;) {
        const img = await this.json('GET', `/v1/images/${id}`, null, [200]);
        if (img.urls?.thumbnail) break;
        if (Date.now() > deadline) throw new Error(`thumbnail of ${id} not ready`);
        await sleep(100);
      }
    }
  }
}

// Distinct specs of the same cost: a new (image, spec) pair is a new render; the same one is
// a cache hit. Width steps of 1 px and quality steps of 1 barely change the work.
const w1Spec = (i) => ({ operations: [{ op: 'resize', width: 720 - (i % 8), height: 588, fit: 'fill' }], output: { format: 'jpeg', quality: 80 - (Math.floor(i / 8) % 16) } });
const W1_PER_IMAGE = 128;
const w3Spec = (i) => ({ operations: [{ op: 'resize', width: 256 - (i % 8) }], output: { format: 'webp', quality: 80 - (Math.floor(i / 8) % 10) } });
const W3_PER_IMAGE = 80;
// Fleet: a render of about 90 ms of CPU (1200×900 JPEG → 800 px WebP), short enough for bursts
// of 40 to drain in seconds, long enough that 6 slots are seen busy by a 50 ms sampler.
const fleetSpec = (i) => ({ operations: [{ op: 'resize', width: 800 - (i % 16) }], output: { format: 'webp', quality: 80 - (Math.floor(i / 16) % 20) } });
const FLEET = { workers: 3, concurrency: 2, sampleEveryMs: 50 };
const W2_EAGER = [
  { operations: [{ op: 'resize', width: 256 }], output: { format: 'webp' } },
  { operations: [{ op: 'resize', width: 1024 }], output: { format: 'jpeg' } },
  { operations: [{ op: 'resize', width: 2048 }], output: { format: 'avif' } },
];

// ---------------------------------------------------------------- environment

function machine() {
  let distro = null;
  try {
    distro = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? null;
  } catch {}
  // The load average says how much else shared the machine: throughput moves with it.
  return { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? null, ramMb: Math.round(os.totalmem() / 2 ** 20), os: `${distro ?? os.type()} (${os.platform()} ${os.release()} ${os.arch()})`, loadAverageAtStart: os.loadavg().map(r2) };
}

function versions() {
  let sha = null;
  let dirty = null;
  try {
    sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).trim().length > 0;
  } catch {}
  let sharpVersion = sharp.versions.sharp ?? null;
  try {
    sharpVersion ??= JSON.parse(fs.readFileSync(path.join(root, 'node_modules/sharp/package.json'), 'utf8')).version;
  } catch {}
  return { node: process.version, sharp: sharpVersion, libvips: sharp.versions.vips, pixmill: sha, pixmillDirty: dirty };
}

/** A real ImageMagick (not a stand-in script): answers -version with "ImageMagick". */
function findImageMagick() {
  for (const [cmd, pre] of [['magick', []], ['/usr/bin/convert', []], ['convert', []]]) {
    const r = spawnSync(cmd, [...pre, '-version'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0 && /ImageMagick/.test(r.stdout)) return { cmd, version: r.stdout.split('\n')[0].trim() };
  }
  return null;
}

function findVipsthumbnail() {
  const r = spawnSync('vipsthumbnail', ['--version'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? { cmd: 'vipsthumbnail', version: (r.stdout || r.stderr).trim().split('\n')[0] } : null;
}

// ---------------------------------------------------------------- scenarios

/**
 * Raw sharp in this process: `parallel` pipelines at once, sharp.concurrency(1) like the worker.
 * Also this process's CPU per op, all threads (libuv's and libvips'), the floor of a job's CPU.
 */
async function rawSharp(input, make, ops, parallel) {
  for (let i = 0; i < parallel; i++) await make(sharp(input)).toBuffer(); // warm-up
  const cpu = cpuWindow({ bench: () => [process.pid] });
  const t0 = now();
  await pool(ops, parallel, () => make(sharp(input)).toBuffer());
  const seconds = (now() - t0) / 1000;
  const c = cpu.stop().bench;
  return { opsPerSec: ops / seconds, cpuMsPerOp: c.ms === null ? null : c.ms / ops, cpuReason: c.reason ?? null };
}

async function rawMedianMs(input, make, n) {
  for (let i = 0; i < 3; i++) await make(sharp(input)).toBuffer();
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await make(sharp(input)).toBuffer();
    t.push(now() - t0);
  }
  return median(t);
}

/**
 * Pixmill end to end at saturation: every job submitted at once (16 requests in flight),
 * each long-polled until it succeeded. jobs/s is measured from the 10th-percentile completion
 * to the last, so the start-up ramp does not count; wall rate reported alongside.
 */
async function pixmillThroughput(api, imageIds, specFor, perImage, jobs) {
  const t0 = now();
  const done = [];
  await pool(jobs, 16, async (i) => {
    const job = await api.submit(imageIds[Math.floor(i / perImage)], specFor(i % perImage));
    if (job.status !== 'succeeded') await api.waitJob(job.id);
    done.push(now() - t0);
  });
  done.sort((a, b) => a - b);
  const k = Math.max(1, Math.floor(jobs * 0.1));
  const steady = (jobs - k) / ((done[jobs - 1] - done[k - 1]) / 1000);
  const wall = jobs / (done[jobs - 1] / 1000);
  return { jobsPerSec: steady, wallJobsPerSec: wall, seconds: done[jobs - 1] / 1000 };
}

/**
 * W4's input: a 12 MP photo-like JPEG encoded to HEIC (HEVC) by Debian's heif-enc
 * (apt-get install libheif-examples), made here because sharp cannot encode HEVC.
 */
async function heicInput(tmp) {
  const jpeg = path.join(tmp, 'w4.jpg');
  const heic = path.join(tmp, 'w4.heic');
  fs.writeFileSync(jpeg, await photoJpeg(4000, 3000, 5000));
  const r = spawnSync('heif-enc', ['-q', '60', '-o', heic, jpeg], { encoding: 'utf8', timeout: 600_000 });
  if (r.error || r.status !== 0) return { input: null, reason: `heif-enc unavailable or failed (${r.error?.code ?? r.status}); apt-get install libheif-examples` };
  return { input: fs.readFileSync(heic), reason: null };
}

async function uploadMany(api, buffers, name, type) {
  const ids = [];
  for (const b of buffers) ids.push((await api.upload(b, name, type)).id);
  await api.waitThumbnails(ids);
  return ids;
}

/** W3: a steady open-loop rate; latency = submit → succeeded seen by the long-poll. */
async function w3Run(api, imageIds, rate, seconds) {
  const total = Math.round(rate * seconds);
  const lat = [];
  const errors = [];
  const inflight = [];
  const t0 = now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    inflight.push(
      (async () => {
        const s = now();
        try {
          const job = await api.submit(imageIds[Math.floor(i / W3_PER_IMAGE)], w3Spec(i % W3_PER_IMAGE));
          if (job.status !== 'succeeded') await api.waitJob(job.id);
          lat.push(now() - s);
        } catch (err) {
          errors.push(err.message);
        }
      })(),
    );
  }
  await Promise.all(inflight);
  return { latencies: lat, errors, achievedRate: total / ((now() - t0) / 1000) };
}

/**
 * The processes a Pixmill job costs CPU in, as cpuWindow() groups: the stack's API(s) and
 * worker(s), PostgreSQL (the bench database's backends, and the server's own processes, which
 * work for every database; other databases' backends are kept apart, not counted), Redis (one
 * server for every client on the machine) and this process (the HTTP client).
 */
function stackCpuGroups(stack, database) {
  const attempt = (fn) => {
    try {
      return fn();
    } catch (err) {
      return err;
    }
  };
  const masters = attempt(postmasterPids);
  const redis = attempt(() => redisPids(Number(new URL(stack.env.REDIS_URL).port || 6379)));
  const found = (x) => {
    if (x instanceof Error) throw x;
    return x;
  };
  // One listing of the postmasters' children per sample, shared by the three PostgreSQL groups.
  let pg = null;
  let pgAt = -Infinity;
  const pgNow = () => {
    if (now() - pgAt > 50) {
      pg = postgresProcesses(database, found(masters));
      pgAt = now();
    }
    return pg;
  };
  return {
    api: () => [stack.apiPid],
    worker: () => stack.workerPids,
    postgresBackends: () => pgNow().bench,
    postgresServer: () => pgNow().server,
    postgresOtherDatabases: () => pgNow().other,
    redis: () => found(redis),
    benchClient: () => [process.pid],
  };
}

/**
 * CPU ms per job by process from a stackCpuGroups() window; the worker split by thread role
 * (bench/lib/cpu.js nodeThreadRoles). Unreadable processes are null, with the reason in `skipped`.
 */
function cpuPerJob(c, jobs, stack, skipped, seconds, cpuUsageMs) {
  const per = (ms) => (ms === null || ms === undefined ? null : r2(ms / jobs));
  const threadOpts = { uvThreadpoolSize: Number(stack.env.UV_THREADPOOL_SIZE) || 4, v8PoolSize: Number(/--v8-pool-size[= ](\d+)/.exec(stack.env.NODE_OPTIONS ?? '')?.[1]) || 4 };
  for (const [name, g] of Object.entries(c)) if (g.ms === null && name !== 'postgresOtherDatabases') skipped[`w1Cpu.${name}`] = g.reason;
  let roles = null;
  let threadCounts = null;
  if (c.worker.ms !== null) {
    roles = { eventLoop: 0, libuvThreadpool: 0, libvipsWorkers: 0, nodePlatform: 0, other: 0 };
    threadCounts = { node: 0, libvipsWorkers: 0, other: 0 };
    for (const pid of c.worker.pids) {
      const ts = c.worker.threads.filter((t) => t.pid === pid);
      for (const [k, ms] of Object.entries(nodeThreadRoles(pid, ts, threadOpts))) roles[k] += ms;
      for (const t of ts) threadCounts[t.comm === 'node' ? 'node' : /^libvips/.test(t.comm) ? 'libvipsWorkers' : 'other']++;
    }
    // Threads that were born and exited between two samples show only in the processes' stat.
    roles.exitedThreads = c.worker.ms - c.worker.threadMs;
  }
  const pgParts = [c.postgresBackends.ms, c.postgresServer.ms].filter((x) => x !== null);
  const postgres = pgParts.length ? pgParts.reduce((a, b) => a + b, 0) : null;
  const out = {
    api: per(c.api.ms),
    workerEventLoop: per(roles?.eventLoop),
    workerRenderThreads: per(roles && roles.libuvThreadpool + roles.libvipsWorkers),
    workerOther: per(roles && roles.nodePlatform + roles.other + roles.exitedThreads),
    postgres: per(postgres),
    redis: per(c.redis.ms),
    benchClient: per(c.benchClient.ms),
  };
  const parts = [c.api.ms, c.worker.ms, postgres, c.redis.ms, c.benchClient.ms];
  out.total = parts.every((x) => x === null) ? null : per(parts.reduce((a, b) => a + (b ?? 0), 0));
  if (parts.some((x) => x === null)) skipped['w1Cpu.total'] = 'leaves out the processes that could not be read (w1Cpu.*)';
  // Write system calls per job (/proc/<pid>/io syscw: write, writev, pwrite; not send/sendto, so
  // PostgreSQL's replies to clients are not in its figure): on this kind of machine each costs about
  // as much CPU as the work it carries. A Node process's socket writes are its round trips (a query,
  // a Redis command, an HTTP response); its eventfd writes are libuv's threadpool tasks signalling
  // the event loop (each fs call, each sharp pipeline). Reads are listed too.
  const sys = (g) => (g?.syscalls ? { writes: per(g.syscalls.writes), reads: per(g.syscalls.reads) } : null);
  const pgSys = [c.postgresBackends, c.postgresServer].every((g) => g.syscalls)
    ? { writes: per(c.postgresBackends.syscalls.writes + c.postgresServer.syscalls.writes), reads: per(c.postgresBackends.syscalls.reads + c.postgresServer.syscalls.reads) }
    : null;
  const syscallsPerJob = { api: sys(c.api), worker: sys(c.worker), postgres: pgSys, redis: sys(c.redis), benchClient: sys(c.benchClient) };
  const detail = {
    jobs,
    windowSeconds: r2(seconds),
    source: HAS_SCHEDSTAT ? '/proc/<pid>/task/<tid>/schedstat (ns)' : `/proc/<pid>/task/<tid>/stat utime+stime (1/${ticksPerSecond()} s ticks)`,
    workerMsPerJob: roles && Object.fromEntries(Object.entries(roles).map(([k, ms]) => [k, per(ms)])),
    workerThreadCounts: threadCounts,
    workerThreadRoles: `main thread = event loop; render = libuv threadpool (${threadOpts.uvThreadpoolSize}, the "node" threads made after Node's ${threadOpts.v8PoolSize + 2} start-up threads) + "libvips worker" threads; other = V8 platform (GC, compiler), Node's scheduler and signal threads, anything else`,
    postgresMsPerJob: { benchBackends: per(c.postgresBackends.ms), serverProcesses: per(c.postgresServer.ms), otherDatabasesNotCounted: per(c.postgresOtherDatabases.ms) ?? 0, benchBackendCount: c.postgresBackends.pids?.length ?? 0 },
    processStatMsPerJob: Object.fromEntries(Object.entries(c).map(([k, g]) => [k, per(g.processMs)])),
    benchClientCpuUsageMsPerJob: per(cpuUsageMs),
    pids: { api: c.api.pids ?? null, worker: c.worker.pids ?? null, redis: c.redis.pids ?? null },
    note: 'Redis and the PostgreSQL server processes also serve whatever else runs on the machine meanwhile; the bench database backends are only the stack\'s',
  };
  return { perJob: out, syscallsPerJob, detail };
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function peerRun(cmdFor, inputFile, ops, parallel, tmp) {
  const run = (i) =>
    new Promise((resolve, reject) => {
      const [cmd, args] = cmdFor(inputFile, path.join(tmp, `peer-${i % parallel}.jpg`));
      const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MAGICK_THREAD_LIMIT: '1', OMP_NUM_THREADS: '1', VIPS_CONCURRENCY: '1' } });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.slice(0, 300)}`))));
    });
  for (let i = 0; i < parallel; i++) await run(i);
  const t0 = now();
  await pool(ops, parallel, run);
  return ops / ((now() - t0) / 1000);
}

/** W2: closed loop, `uploaders` at once, each upload waits for its three eager jobs. */
async function w2Run(api, input, seconds, uploaders, sampleWorkers) {
  const lat = [];
  const errors = [];
  const t0 = now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: uploaders }, async () => {
      do {
        const s = now();
        try {
          const img = await api.upload(input, 'w2.jpg', 'image/jpeg', W2_EAGER);
          // `eagerJobIds` (older API) or `eagerJobs: [{jobId, error}]`.
          const ids = img.eagerJobIds ?? (img.eagerJobs ?? []).map((j) => j.jobId);
          if (ids.length !== 3 || ids.some((id) => !id)) throw new Error(`expected 3 eager jobs, got ${JSON.stringify(img.eagerJobIds ?? img.eagerJobs)}`);
          await Promise.all(ids.map((id) => api.waitJob(id)));
          lat.push(now() - s);
        } catch (err) {
          errors.push(err.message);
          await sleep(500);
        }
      } while (now() < end);
    }),
  );
  const wallS = (now() - t0) / 1000;
  sampleWorkers.stop();
  return { latencies: lat, errors, uploadsPerSec: lat.length / wallS, jobsPerSec: (lat.length * 3) / wallS, seconds: wallS };
}

const FINAL_STATUSES = ['succeeded', 'failed', 'canceled'];

/** Polls the jobs table until every one of `ids` is final; resolves to their rows. */
async function untilFinal(db, ids, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query('SELECT id, user_id, status, created_at, started_at, finished_at FROM jobs WHERE id = ANY($1)', [ids]);
    if (rows.length === ids.length && rows.every((r) => FINAL_STATUSES.includes(r.status))) return rows;
    if (Date.now() > deadline) throw new Error(`fleet: ${ids.length - rows.filter((r) => FINAL_STATUSES.includes(r.status)).length} of ${ids.length} jobs not final after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/**
 * From job rows: while at least one job waited (created, not started), the time-weighted mean and
 * the max of jobs running at once. A check on the sampled figure that cannot miss a short peak.
 */
function concurrencyFromRows(rows) {
  const t = (d) => (d ? d.getTime() : Infinity);
  const times = [...new Set(rows.flatMap((r) => [t(r.created_at), t(r.started_at), t(r.finished_at)]).filter(Number.isFinite))].sort((a, b) => a - b);
  let weighted = 0;
  let span = 0;
  let max = 0;
  for (let i = 0; i + 1 < times.length; i++) {
    const at = times[i];
    const running = rows.filter((r) => t(r.started_at) <= at && t(r.finished_at) > at).length;
    const waiting = rows.filter((r) => t(r.created_at) <= at && t(r.started_at) > at).length;
    if (!waiting) continue;
    weighted += running * (times[i + 1] - at);
    span += times[i + 1] - at;
    max = Math.max(max, running);
  }
  return { meanRunning: span ? r2(weighted / span) : null, maxRunning: max, waitingSeconds: r2(span / 1000) };
}

/**
 * Fleet fairness, read from the jobs table (status and timestamps only), so it holds whatever
 * the scheduler does in between. Phase 1: user A alone submits a burst; every ~50 ms, how many of
 * A's jobs are active while more of A's wait (slots a lone user gets). Phase 2, `trials` times: A
 * submits another burst, then user B one job; how many of A's jobs start between B's submission
 * and B's start (in rounds of `slots` jobs: how long a newcomer waits behind a backlog).
 */
async function fleetRun(stack, slots, burst, trials, input) {
  const { Client } = require(require.resolve('pg', { paths: [root] }));
  const db = new Client({ connectionString: stack.env.DATABASE_URL });
  await db.connect();
  try {
    const a = new Api(stack.baseUrl, await stack.signup());
    const b = new Api(stack.baseUrl, await stack.signup());
    const aUser = (await a.json('GET', '/v1/me', null, [200])).id;
    const [aImage] = await uploadMany(a, [input], 'fleet.jpg', 'image/jpeg');
    const [bImage] = await uploadMany(b, [input], 'fleet.jpg', 'image/jpeg');
    let cacheHits = 0;
    let nextSpec = 0;
    // All of a burst's requests at once, so the backlog is there before the first jobs end.
    const submitBurst = async (api, image, n) => {
      const jobs = await Promise.all(Array.from({ length: n }, () => api.submit(image, fleetSpec(nextSpec++))));
      cacheHits += jobs.filter((j) => j.status === 'succeeded').length;
      return jobs.map((j) => j.id);
    };
    const failed = (rows) => rows.filter((r) => r.status !== 'succeeded').length;

    const samples = []; // [ms, A's active, A's waiting]
    let sampling = true;
    const t0 = now();
    const sampler = (async () => {
      while (sampling) {
        // Waiting = any status that is neither running nor final (queued, or held back by admission).
        const { rows } = await db.query(
          `SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*) FILTER (WHERE status <> 'active' AND status <> ALL($2))::int AS waiting FROM jobs WHERE user_id = $1`,
          [aUser, FINAL_STATUSES],
        );
        samples.push([Math.round(now() - t0), rows[0].active, rows[0].waiting]);
        await sleep(FLEET.sampleEveryMs);
      }
    })();
    const aloneRows = await untilFinal(db, await submitBurst(a, aImage, burst)).finally(() => (sampling = false));
    await sampler;
    const aloneSeconds = (now() - t0) / 1000;
    const busy = samples.filter((x) => x[2] > 0).map((x) => x[1]);

    const runs = [];
    for (let k = 0; k < trials; k++) {
      const aIds = await submitBurst(a, aImage, burst);
      const bJob = await b.submit(bImage, fleetSpec(k));
      const rows = await untilFinal(db, [...aIds, bJob.id]);
      const bRow = rows.find((r) => r.id === bJob.id);
      const aRows = rows.filter((r) => r.id !== bJob.id);
      const at = (d) => (d ? d.getTime() : Infinity);
      const created = at(bRow.created_at);
      const started = at(bRow.started_at);
      const before = aRows.filter((r) => at(r.started_at) > created && at(r.started_at) < started).length;
      runs.push({
        aJobsStartedBeforeB: before,
        roundsWaited: r2(before / slots),
        aWaitingAtB: aRows.filter((r) => at(r.created_at) <= created && at(r.started_at) > created).length,
        aRunningAtB: aRows.filter((r) => at(r.started_at) <= created && at(r.finished_at) > created).length,
        bWaitMs: Number.isFinite(started) ? started - created : null,
        bLatencyMs: bRow.finished_at ? at(bRow.finished_at) - created : null,
        failed: failed(rows),
      });
    }
    return {
      alone: { slotsUsedP50: median(busy), slotsUsedMax: busy.length ? Math.max(...busy) : null },
      shared: { roundsWaited: median(runs.map((x) => x.roundsWaited)), aJobsStartedBeforeB: median(runs.map((x) => x.aJobsStartedBeforeB)) },
      detail: {
        alone: { jobs: burst, seconds: r2(aloneSeconds), samplesWhileWaiting: busy.length, samples: samples.length, fromRows: concurrencyFromRows(aloneRows), failed: failed(aloneRows) },
        trials: runs,
        cacheHits,
        timeline: samples,
      },
    };
  } finally {
    await db.end();
  }
}

function rssSampler(stack, pids, everyMs) {
  const samples = []; // [ms, total MB]
  for (const pid of pids) {
    try {
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); // reset VmHWM
    } catch {}
  }
  const t0 = now();
  const tick = () => {
    try {
      samples.push([now() - t0, pids.reduce((s, pid) => s + stack.rss(pid), 0)]);
    } catch {}
  };
  tick();
  const timer = setInterval(tick, everyMs);
  let hwm = null;
  return {
    samples,
    stop() {
      clearInterval(timer);
      tick();
      try {
        hwm = Math.max(...pids.map((pid) => stack.rss(pid, 'VmHWM')));
      } catch {}
    },
    peak: () => Math.max(hwm ?? 0, ...samples.map((s) => s[1])),
  };
}

// ---------------------------------------------------------------- report

function emptyResult(o, s) {
  return {
    date: new Date().toISOString(),
    ratios: { w1VsRawSharp: null, vsImageMagick: null, vsVipsthumbnail: null, twoWorkersVsOne: null, orchestrationCpuMsPerJob: null },
    w1: {
      jobsPerSec: null,
      rawSharpOpsPerSec: null,
      // CPU ms per job by process over W1's timed part (bench/lib/cpu.js), and raw sharp's per op.
      cpuMsPerJob: { api: null, workerEventLoop: null, workerRenderThreads: null, workerOther: null, postgres: null, redis: null, benchClient: null, total: null },
      // Write and read system calls per job by process over the same window (/proc/<pid>/io).
      syscallsPerJob: { api: null, worker: null, postgres: null, redis: null, benchClient: null },
      rawCpuMsPerOp: null,
    },
    w2: { jobsPerSec: null, p50Ms: null, p95Ms: null, p99Ms: null },
    w4: { jobsPerSec: null, workerPeakRssMb: null },
    w3: { overheadP50Ms: null, overheadP95Ms: null, overheadP99Ms: null },
    api: {
      pollRps: null,
      pollP99Ms: null,
      pollRpsCacheOff: null,
      pollP99MsCacheOff: null,
      imageGetRps: null,
      imageGetP99Ms: null,
      imageGetRpsCacheOff: null,
      imageGetP99MsCacheOff: null,
      cachedSubmitRps: null,
      cachedSubmitP99Ms: null,
    },
    memory: { workerPeakRssMb: null, workerGrowthMb: null, apiUploadRssGrowthMb: null },
    fleet: { slots: null, alone: { slotsUsedP50: null, slotsUsedMax: null }, shared: { roundsWaited: null, aJobsStartedBeforeB: null } },
    machine: machine(),
    versions: versions(),
    settings: { ...s, storage: o.storage, readCache: o.readCache, quick: o.quick, instance: o.instance, uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)' },
    skipped: {},
    detail: {},
    goals: {},
  };
}

function evaluateGoals(R) {
  const g = (value, ok) => (value === null ? { met: null, value } : { met: ok, value });
  R.goals = {
    w1RatioAtLeast090: g(R.ratios.w1VsRawSharp, R.ratios.w1VsRawSharp >= GOALS.w1Ratio),
    w3OverheadP50AtMost15Ms: g(R.w3.overheadP50Ms, R.w3.overheadP50Ms <= GOALS.w3P50),
    w3OverheadP99AtMost50Ms: g(R.w3.overheadP99Ms, R.w3.overheadP99Ms <= GOALS.w3P99),
    pollAtLeast3000Rps: g(R.api.pollRps, R.api.pollRps >= GOALS.pollRps),
    pollP99AtMost25Ms: g(R.api.pollP99Ms, R.api.pollP99Ms <= GOALS.pollP99),
    orchestrationCpuAtMost5Ms: g(R.ratios.orchestrationCpuMsPerJob, R.ratios.orchestrationCpuMsPerJob <= GOALS.orchestrationCpuMs),
  };
}

function tableRows(R) {
  const d = R.detail;
  const v = (x, unit = '') => (x === null || x === undefined ? '—' : `${x}${unit}`);
  const sk = (k) => (R.skipped[k] ? ` (skipped: ${R.skipped[k]})` : '');
  const goal = (k) => (R.goals[k]?.met === null || R.goals[k] === undefined ? '' : R.goals[k].met ? ' ✅' : ' ❌');
  return [
    [`W1 raw sharp (${R.settings.workerConcurrency} pipelines, sharp.concurrency ${R.settings.sharpConcurrency})`, `${v(R.w1.rawSharpOpsPerSec)} ops/s${sk('w1')}`],
    [`W1 Pixmill end to end (1 worker × ${R.settings.workerConcurrency})`, `${v(R.w1.jobsPerSec)} jobs/s, ${v(d.w1?.jobsPerSecPerCore)} jobs/s per core`],
    ['W1 ratio Pixmill / raw sharp (goal ≥ 0.90)', `${v(R.ratios.w1VsRawSharp)}${goal('w1RatioAtLeast090')}`],
    ...cpuRows(R, v),
    [`W1 ImageMagick convert (${R.settings.workerConcurrency} processes)`, `${v(d.peers?.imageMagickOpsPerSec)} ops/s, Pixmill / ImageMagick ${v(R.ratios.vsImageMagick)}${sk('imageMagick')}`],
    [`W1 vipsthumbnail (${R.settings.workerConcurrency} processes)`, `${v(d.peers?.vipsthumbnailOpsPerSec)} ops/s, Pixmill / vipsthumbnail ${v(R.ratios.vsVipsthumbnail)}${sk('vipsthumbnail')}`],
    [`W1 scale-out: 2 workers × ${R.settings.workerConcurrency / 2}`, `${v(d.scale?.twoWorkersJobsPerSec)} jobs/s, ratio vs 1 × ${R.settings.workerConcurrency} ${v(R.ratios.twoWorkersVsOne)}${sk('scale')}`],
    [`Fleet (${FLEET.workers} workers × ${FLEET.concurrency}): user A alone, slots its jobs hold while more wait`, `p50 ${v(R.fleet.alone.slotsUsedP50)}, max ${v(R.fleet.alone.slotsUsedMax)} of ${v(R.fleet.slots)}${d.fleet ? ` (from the rows: mean ${v(d.fleet.alone.fromRows.meanRunning)})` : ''}${sk('fleet')}`],
    ['Fleet: user B\'s one job behind A\'s backlog', `${v(R.fleet.shared.roundsWaited)} rounds waited (${v(R.fleet.shared.aJobsStartedBeforeB)} of A's jobs started first${d.fleet ? `, B waited ${v(median(d.fleet.trials.map((x) => x.bWaitMs)), ' ms')}, ${d.fleet.trials.length} trial(s)` : ''})`],
    ['W2 upload + 3 eager (webp 256, jpeg 1024, avif 2048)', `${v(d.w2?.uploadsPerSec)} uploads/s, ${v(R.w2.jobsPerSec)} jobs/s; p50 ${v(R.w2.p50Ms, ' ms')}, p95 ${v(R.w2.p95Ms, ' ms')}, p99 ${v(R.w2.p99Ms, ' ms')}${sk('w2')}`],
    ['W3 latency submit → succeeded', `p50 ${v(d.w3?.latencyP50Ms, ' ms')}, p95 ${v(d.w3?.latencyP95Ms, ' ms')}, p99 ${v(d.w3?.latencyP99Ms, ' ms')} (raw render median ${v(d.w3?.rawRenderMedianMs, ' ms')})${sk('w3')}`],
    ['W3 overhead (goal p50 ≤ 15 ms, p99 ≤ 50 ms)', `p50 ${v(R.w3.overheadP50Ms, ' ms')}${goal('w3OverheadP50AtMost15Ms')}, p95 ${v(R.w3.overheadP95Ms, ' ms')}, p99 ${v(R.w3.overheadP99Ms, ' ms')}${goal('w3OverheadP99AtMost50Ms')}`],
    ['API poll GET /v1/jobs/{id} (goal ≥ 3000 req/s, p99 ≤ 25 ms)', `${v(R.api.pollRps)} req/s${goal('pollAtLeast3000Rps')}, p99 ${v(R.api.pollP99Ms, ' ms')}${goal('pollP99AtMost25Ms')}${sk('api')}`],
    ['API poll, read cache off', `${v(R.api.pollRpsCacheOff)} req/s, p99 ${v(R.api.pollP99MsCacheOff, ' ms')}`],
    ['API CPU per poll, read cache on / off', `${v(d.api?.poll?.cpuMsPerRequest, ' ms')} / ${v(d.api?.pollCacheOff?.cpuMsPerRequest, ' ms')}`],
    ['API CPU per image GET, read cache on / off', `${v(d.api?.imageGet?.cpuMsPerRequest, ' ms')} / ${v(d.api?.imageGetCacheOff?.cpuMsPerRequest, ' ms')}`],
    ['API GET /v1/images/{id}, read cache on / off', `${v(R.api.imageGetRps)} / ${v(R.api.imageGetRpsCacheOff)} req/s, p99 ${v(R.api.imageGetP99Ms, ' ms')} / ${v(R.api.imageGetP99MsCacheOff, ' ms')}`],
    ['API cache-hit POST …/transformations', `${v(R.api.cachedSubmitRps)} req/s, p99 ${v(R.api.cachedSubmitP99Ms, ' ms')}`],
    ['W4 12 MP HEIC → 1024 px WebP', `${v(R.w4?.jobsPerSec)} jobs/s, worker peak RSS ${v(R.w4?.workerPeakRssMb, ' MB')}${sk('w4')}`],
    ['Worker RSS during W2', `peak ${v(R.memory.workerPeakRssMb, ' MB')}, growth first→last window ${v(R.memory.workerGrowthMb, ' MB')}`],
    ['API RSS growth, concurrent 10 MiB uploads', `${v(R.memory.apiUploadRssGrowthMb, ' MB')}${d.uploadMemory ? ` (${d.uploadMemory.uploads} uploads)` : ''}${sk('uploadMemory')}`],
  ];
}

/** One row per process of W1's CPU per job, then the total and the orchestration (total − raw sharp). */
function cpuRows(R, v) {
  const c = R.w1.cpuMsPerJob;
  const ms = (x) => v(x, ' ms');
  // [label, value, the cpuWindow group whose skip reason explains a missing value]
  const rows = [
    ['API', c.api, 'api'],
    ['worker event loop', c.workerEventLoop, 'worker'],
    ['worker render threads (libuv threadpool + libvips)', c.workerRenderThreads, 'worker'],
    ['worker other threads (V8 GC and compiler, …)', c.workerOther, 'worker'],
    ['PostgreSQL (bench database backends + server processes)', c.postgres, 'postgresBackends'],
    ['Redis', c.redis, 'redis'],
    ['bench client (HTTP, long-polls)', c.benchClient, 'benchClient'],
  ].map(([name, x, group]) => [`W1 CPU per job: ${name}`, `${ms(x)}${R.skipped[`w1Cpu.${group}`] ? ` (skipped: ${R.skipped[`w1Cpu.${group}`]})` : ''}`]);
  const goal = R.goals.orchestrationCpuAtMost5Ms?.met;
  return [
    ...rows,
    ['W1 CPU per job: total (raw sharp per op)', `${ms(c.total)} (${ms(R.w1.rawCpuMsPerOp)})`],
    ['W1 orchestration CPU per job, total − raw sharp (goal ≤ 5 ms)', `${ms(R.ratios.orchestrationCpuMsPerJob)}${goal === undefined || goal === null ? '' : goal ? ' ✅' : ' ❌'}`],
    ['W1 write / read system calls per job: API, worker, PostgreSQL, Redis, bench client', ['api', 'worker', 'postgres', 'redis', 'benchClient'].map((k) => { const x = R.w1.syscallsPerJob?.[k]; return x ? `${x.writes} / ${x.reads}` : '–'; }).join(', ')],
  ];
}

function printTable(R) {
  const rows = tableRows(R);
  const w = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\nPixmill bench (${R.settings.mode}) — ${R.machine.cpus} × ${R.machine.model}, node ${R.versions.node}, sharp ${R.versions.sharp} / libvips ${R.versions.libvips}, ${R.versions.pixmill}\n\n`);
  process.stdout.write(`${rows.map(([k, val]) => `${k.padEnd(w)}  ${val}`).join('\n')}\n`);
}

function markdownTable(R) {
  return ['| scenario | result |', '|---|---|', ...tableRows(R).map(([k, val]) => `| ${k} | ${val.replace(/\|/g, '\\|')} |`)].join('\n');
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Bars of throughput per scenario + a histogram of W3 latencies with p50/p95/p99. */
function chartSvg(R, w3Latencies) {
  const W = 760;
  const bars = [
    ['W1 raw sharp (ops/s)', R.w1.rawSharpOpsPerSec, '#888'],
    ['W1 Pixmill 1×2 (jobs/s)', R.w1.jobsPerSec, '#2a7ae2'],
    ['W1 Pixmill 2×1 (jobs/s)', R.detail.scale?.twoWorkersJobsPerSec ?? null, '#5b9bef'],
    ['W1 ImageMagick (ops/s)', R.detail.peers?.imageMagickOpsPerSec ?? null, '#c0504d'],
    ['W1 vipsthumbnail (ops/s)', R.detail.peers?.vipsthumbnailOpsPerSec ?? null, '#9bbb59'],
    ['W2 eager jobs (jobs/s)', R.w2.jobsPerSec, '#8064a2'],
  ];
  const max = Math.max(1, ...bars.map((b) => b[1] ?? 0));
  const barH = 22;
  const left = 200;
  const plotW = W - left - 80;
  let y = 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="__H__" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Pixmill bench (${esc(R.settings.mode)}, ${esc(R.date.slice(0, 10))}, ${R.machine.cpus} CPU): throughput</text>`,
  ];
  for (const [label, val, color] of bars) {
    const w = val ? (val / max) * plotW : 0;
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(label)}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`);
    parts.push(`<text x="${left + w + 6}" y="${y + 15}">${val === null ? 'skipped' : val}</text>`);
    y += barH + 8;
  }
  y += 20;
  parts.push(`<text x="10" y="${y}" font-size="14" font-weight="bold">W3 latency submit → succeeded (${w3Latencies.length} jobs at ${R.settings.w3Rate}/s)</text>`);
  y += 15;
  const hH = 160;
  if (w3Latencies.length) {
    const hi = pct(w3Latencies, 99.5) * 1.05;
    const nb = 40;
    const bins = new Array(nb).fill(0);
    for (const l of w3Latencies) bins[Math.min(nb - 1, Math.floor((l / hi) * nb))]++;
    const bmax = Math.max(...bins);
    const x0 = 60;
    const pw = W - x0 - 30;
    const bw = pw / nb;
    bins.forEach((c, i) => {
      const h = (c / bmax) * hH;
      parts.push(`<rect x="${(x0 + i * bw).toFixed(1)}" y="${(y + hH - h).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#2a7ae2"/>`);
    });
    parts.push(`<line x1="${x0}" y1="${y + hH}" x2="${x0 + pw}" y2="${y + hH}" stroke="#000"/>`);
    for (let t = 0; t <= 4; t++) {
      const ms = (hi * t) / 4;
      parts.push(`<text x="${x0 + (pw * t) / 4}" y="${y + hH + 15}" text-anchor="middle">${ms.toFixed(0)} ms</text>`);
    }
    const marks = [['p50', R.detail.w3?.latencyP50Ms, '#000'], ['p95', R.detail.w3?.latencyP95Ms, '#c60'], ['p99', R.detail.w3?.latencyP99Ms, '#c00'], ['raw render', R.detail.w3?.rawRenderMedianMs, '#080']];
    marks.forEach(([name, ms, color], i) => {
      if (ms === null || ms === undefined) return;
      const x = x0 + Math.min(1, ms / hi) * pw;
      parts.push(`<line x1="${x.toFixed(1)}" y1="${y}" x2="${x.toFixed(1)}" y2="${y + hH}" stroke="${color}" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${(x + 3).toFixed(1)}" y="${y + 12 + i * 13}" fill="${color}">${name} ${ms} ms</text>`);
    });
    y += hH + 30;
  } else {
    parts.push(`<text x="20" y="${y + 20}">skipped</text>`);
    y += 40;
  }
  parts.push('</svg>');
  return `${parts.join('\n').replace('__H__', String(y))}\n`;
}

function updateDoc(R, resultFile) {
  const doc = path.join(root, 'BENCHMARKS.md');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  const m = R.machine;
  const goalLine = Object.entries(R.goals)
    .map(([k, g]) => `- ${k}: ${g.met === null ? 'not measured' : g.met ? `met (${g.value})` : `**missed** (${g.value})`}`)
    .join('\n');
  const block = `${start}
_Written by \`npm run bench\` (${R.settings.mode} run, ${R.date}); raw numbers: [\`${path.relative(root, resultFile)}\`](${path.relative(root, resultFile)})._

Machine: ${m.cpus} × ${m.model}, ${m.ramMb} MB RAM, ${m.os}. Node ${R.versions.node}, sharp ${R.versions.sharp}, libvips ${R.versions.libvips}, Pixmill ${R.versions.pixmill}${R.versions.pixmillDirty ? ' (working tree with uncommitted changes)' : ''}. Worker concurrency ${R.settings.workerConcurrency}, SHARP_CONCURRENCY ${R.settings.sharpConcurrency}, ${R.settings.storage} storage.

${markdownTable(R)}

Goals:
${goalLine}

![throughput per scenario and W3 latency distribution](bench/results/chart.svg)
${end}`;
  let text = fs.existsSync(doc) ? fs.readFileSync(doc, 'utf8') : '# Pixmill benchmarks\n\n';
  if (text.includes(start) && text.includes(end)) text = text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length);
  else text += `\n## Latest results\n\n${block}\n`;
  fs.writeFileSync(doc, text);
}

// ---------------------------------------------------------------- s3 and profiles

/** s3rver needs DES (OpenSSL's legacy provider): without it, run this script again with it. */
function reexecWithLegacyOpenSsl() {
  try {
    require('node:crypto').createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return false;
  } catch {
    const r = spawnSync(process.execPath, ['--openssl-legacy-provider', ...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
}

/** An in-process S3 server: the tests' own helper (libs/testing/src/s3rver.ts), compiled on the fly. */
async function startS3() {
  require(require.resolve('ts-node', { paths: [root] })).register({ transpileOnly: true, compilerOptions: { module: 'commonjs' } });
  const { startS3rver, s3Env } = require(path.join(root, 'libs/testing/src/s3rver.ts'));
  const handle = await startS3rver({ bucket: 'pixmill-bench' });
  return { handle, env: s3Env(handle) };
}

/** Top self-time functions of every profile in `dir`, labelled by process role (pid in the file name). */
function profileSummaries(dir, roles) {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => {
      const pid = f.split('.')[3];
      const s = summarize(path.join(dir, f), 15);
      return { role: roles[pid] ?? 'api (scale-out stack)', file: path.relative(root, path.join(dir, f)), sampledSeconds: r1(s.totalMs / 1000), busySeconds: r1(s.busyMs / 1000), busyPercentPerSecond: s.timeline, packages: s.packages, functions: s.functions, inclusive: s.inclusive };
    });
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.storage === 's3') reexecWithLegacyOpenSsl();
  const S = settingsFor(o.quick);
  if (o.workerConcurrency) S.workerConcurrency = o.workerConcurrency; // raw sharp runs as many pipelines, the same parallelism
  if (o.sharpConcurrency) S.sharpConcurrency = o.sharpConcurrency; // the worker's and the raw baseline's
  S.env = o.env;
  const want = (k) => !o.only || o.only.includes(k);
  const R = emptyResult(o, S);
  const outDir = path.join(root, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const resultFile = path.join(outDir, `${R.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  let w3Latencies = [];
  const save = () => {
    evaluateGoals(R);
    fs.writeFileSync(resultFile, `${JSON.stringify(R, null, 2)}\n`);
  };
  const tStart = now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixmill-bench-'));
  sharp.concurrency(S.sharpConcurrency); // the worker's setting, for the in-process baselines
  sharp.cache(false);

  log(`${S.mode} run; generating inputs…`);
  const w1Count = Math.ceil(Math.max(S.w1Jobs, S.scaleJobs) / W1_PER_IMAGE);
  const w1Inputs = [];
  for (let i = 0; i < w1Count * 2; i++) w1Inputs.push(await photoJpeg(2725, 2225, 1000 + i));
  const w3Inputs = [];
  for (let i = 0; i < Math.ceil((S.w3Rate * S.w3Seconds) / W3_PER_IMAGE); i++) w3Inputs.push(await photoPng(640, 480, 3000 + i));
  const w2Input = want('w2') ? await photoJpeg(4000, 3000, 2000) : null;
  const fleetInput = want('fleet') ? await photoJpeg(1200, 900, 4000) : null;
  const w4 = want('w4') ? await heicInput(tmp) : null;
  const w1File = path.join(tmp, 'w1.jpg');
  fs.writeFileSync(w1File, w1Inputs[0]);
  R.detail.inputs = { w1: { width: 2725, height: 2225, bytes: w1Inputs[0].length }, w3: { width: 640, height: 480, bytes: w3Inputs[0].length }, w2: w2Input && { width: 4000, height: 3000, bytes: w2Input.length } };

  const makeW1 = (p) => p.resize(720, 588, { fit: 'fill', kernel: 'lanczos3' }).jpeg({ quality: 80 });
  const makeW3 = (p) => p.resize(256).webp({ quality: 80 });

  // Baselines first, on an idle machine.
  if (want('w1')) {
    log('W1 raw sharp…');
    const raw = await rawSharp(w1Inputs[0], makeW1, S.w1RawOps, S.workerConcurrency);
    R.w1.rawSharpOpsPerSec = r2(raw.opsPerSec);
    R.w1.rawCpuMsPerOp = r2(raw.cpuMsPerOp);
    if (raw.cpuReason) R.skipped['w1Cpu.raw'] = raw.cpuReason;
  } else R.skipped.w1 = 'not selected (--only)';
  let w3RawMs = null;
  if (want('w3')) w3RawMs = await rawMedianMs(w3Inputs[0], makeW3, o.quick ? 20 : 60);
  const fleetRawMs = want('fleet') ? await rawMedianMs(fleetInput, (p) => p.resize(800).webp({ quality: 80 }), 10) : null;

  if (want('peers') && R.w1.rawSharpOpsPerSec !== null) {
    const im = findImageMagick();
    const vt = findVipsthumbnail();
    R.detail.peers = { imageMagick: im?.version ?? null, vipsthumbnail: vt?.version ?? null, imageMagickOpsPerSec: null, vipsthumbnailOpsPerSec: null };
    if (im) {
      log(`peers: ${im.version}…`);
      R.detail.peers.imageMagickOpsPerSec = r2(await peerRun((i, out) => [im.cmd, [i, '-filter', 'Lanczos', '-resize', '720x588!', '-quality', '80', out]], w1File, S.peerOps, S.workerConcurrency, tmp));
    } else R.skipped.imageMagick = 'not installed (apt-get install imagemagick; /usr/local/bin/convert here is not ImageMagick)';
    if (vt) {
      log(`peers: ${vt.version}…`);
      R.detail.peers.vipsthumbnailOpsPerSec = r2(await peerRun((i, out) => [vt.cmd, [i, '--size', '720x588!', '-o', `${out}[Q=80]`]], w1File, S.peerOps, S.workerConcurrency, tmp));
    } else R.skipped.vipsthumbnail = 'not installed (apt-get install libvips-tools)';
  } else if (!want('peers')) R.skipped.imageMagick = R.skipped.vipsthumbnail = 'not selected (--only)';
  save();

  const stackOpts = {
    database: `pixmill_bench_${o.instance}`,
    redisDb: 13,
    queuePrefix: `{pixmill-bench-${o.instance.replace(/_/g, '-')}}`,
    build: o.build,
    env: {
      MAX_UPLOAD_BYTES: String(64 * 2 ** 20),
      WORKER_CONCURRENCY: String(S.workerConcurrency),
      SHARP_CONCURRENCY: String(S.sharpConcurrency),
      READ_CACHE: String(o.readCache),
      ...o.env,
    },
  };
  let s3 = null;
  if (o.storage === 's3') {
    s3 = await startS3();
    Object.assign(stackOpts.env, s3.env);
    log(`s3rver at ${s3.handle.endpoint}, bucket ${s3.handle.bucket}`);
  }
  let profileDir = null;
  if (o.profile) {
    profileDir = path.join(outDir, 'profiles', R.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z'));
    fs.mkdirSync(profileDir, { recursive: true });
    const prof = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
    stackOpts.apiNodeArgs = prof;
    if (o.profile === 'all') stackOpts.workerNodeArgs = prof;
  }
  log(`starting the stack (1 worker × ${S.workerConcurrency})…`);
  let stack = await startStack({ ...stackOpts, workers: 1 });
  const profileRoles = { [stack.apiPid]: `api (READ_CACHE=${o.readCache})`, ...Object.fromEntries(stack.workerPids.map((pid) => [pid, 'worker'])) };
  try {
    const api = new Api(stack.baseUrl, await stack.signup());
    let lastJob = null;
    let lastSpec = null;
    let lastImage = null;

    if (want('w1')) {
      log(`W1 Pixmill: ${S.w1Jobs} jobs…`);
      const ids = await uploadMany(api, w1Inputs.slice(0, Math.ceil(S.w1Jobs / W1_PER_IMAGE)), 'w1.jpg', 'image/jpeg');
      // CPU over the whole timed part, first submission to last completion: every job is in it.
      const cpu = cpuWindow(stackCpuGroups(stack, stackOpts.database));
      const usage0 = process.cpuUsage();
      const t = await pixmillThroughput(api, ids, w1Spec, W1_PER_IMAGE, S.w1Jobs);
      const usage = process.cpuUsage(usage0);
      const perJob = cpuPerJob(cpu.stop(), S.w1Jobs, stack, R.skipped, t.seconds, (usage.user + usage.system) / 1000);
      R.w1.cpuMsPerJob = perJob.perJob;
      R.w1.syscallsPerJob = perJob.syscallsPerJob;
      if (R.w1.cpuMsPerJob.total !== null && R.w1.rawCpuMsPerOp !== null) R.ratios.orchestrationCpuMsPerJob = r2(R.w1.cpuMsPerJob.total - R.w1.rawCpuMsPerOp);
      R.w1.jobsPerSec = r2(t.jobsPerSec);
      R.ratios.w1VsRawSharp = r3(t.jobsPerSec / R.w1.rawSharpOpsPerSec);
      R.detail.w1 = { jobs: S.w1Jobs, wallJobsPerSec: r2(t.wallJobsPerSec), seconds: r2(t.seconds), jobsPerSecPerCore: r2(t.jobsPerSec / os.cpus().length), rawSharpOpsPerSecPerCore: r2(R.w1.rawSharpOpsPerSec / os.cpus().length), cpu: perJob.detail, loadAverageAtEnd: os.loadavg().map(r2) };
      if (R.detail.peers?.imageMagickOpsPerSec) R.ratios.vsImageMagick = r3(t.jobsPerSec / R.detail.peers.imageMagickOpsPerSec);
      if (R.detail.peers?.vipsthumbnailOpsPerSec) R.ratios.vsVipsthumbnail = r3(t.jobsPerSec / R.detail.peers.vipsthumbnailOpsPerSec);
      lastImage = ids[0];
      lastSpec = w1Spec(0);
      save();
    }

    if (want('w3')) {
      log(`W3: ${S.w3Rate} jobs/s for ${S.w3Seconds} s…`);
      const ids = await uploadMany(api, w3Inputs, 'w3.png', 'image/png');
      const w = await w3Run(api, ids, S.w3Rate, S.w3Seconds);
      w3Latencies = w.latencies.map((l) => Number(l.toFixed(2)));
      const over = w.latencies.map((l) => l - w3RawMs);
      R.w3 = { overheadP50Ms: r1(pct(over, 50)), overheadP95Ms: r1(pct(over, 95)), overheadP99Ms: r1(pct(over, 99)) };
      R.detail.w3 = { jobs: w.latencies.length, errors: w.errors.slice(0, 5), errorCount: w.errors.length, achievedRate: r2(w.achievedRate), rawRenderMedianMs: r1(w3RawMs), latencyP50Ms: r1(pct(w.latencies, 50)), latencyP95Ms: r1(pct(w.latencies, 95)), latencyP99Ms: r1(pct(w.latencies, 99)), latencyMaxMs: r1(pct(w.latencies, 100)), loadAverageAtEnd: os.loadavg().map(r2), latenciesMs: w3Latencies };
      lastImage ??= ids[0];
      lastSpec ??= w3Spec(0);
      save();
    } else R.skipped.w3 = 'not selected (--only)';

    if (want('api')) {
      if (!lastImage) {
        lastImage = (await uploadMany(api, [w3Inputs[0]], 'w3.png', 'image/png'))[0];
        lastSpec = w3Spec(0);
      }
      const job = await api.submit(lastImage, lastSpec);
      lastJob = job.status === 'succeeded' ? job : await api.waitJob(job.id);
      const headers = { ...api.auth };
      // A second API process with the read cache the other way round, so one run compares both;
      // only one of the two is under load at a time.
      const other = await stack.startApi({ READ_CACHE: String(!o.readCache) });
      profileRoles[other.pid] = `api (READ_CACHE=${!o.readCache})`;
      const urls = o.readCache ? { on: stack.baseUrl, off: other.baseUrl } : { on: other.baseUrl, off: stack.baseUrl };
      const pidOf = { [stack.baseUrl]: stack.apiPid, [other.baseUrl]: other.pid };
      const run = async (name, base, p, extra = {}) => {
        log(`API: autocannon ${S.apiConnections} connections × ${S.apiSeconds} s, ${name}…`);
        const cpu0 = processCpuMs(pidOf[base]);
        const res = await cannon({ url: `${base}${p}`, connections: S.apiConnections, duration: S.apiSeconds, headers, ...extra });
        // CPU time of the API process per request: steadier than req/s on a machine shared with other work.
        const cpuMsPerRequest = r3((processCpuMs(pidOf[base]) - cpu0) / res.requests.total);
        return { res, detail: { requests: res.requests.total, non2xx: res.non2xx, errors: res.errors, timeouts: res.timeouts, p50Ms: res.latency.p50, p90Ms: res.latency.p90, p99Ms: res.latency.p99, cpuMsPerRequest } };
      };
      const jobPath = `/v1/jobs/${lastJob.id}`;
      const imagePath = `/v1/images/${lastImage}`;
      // A fresh process compiles its hot paths and fills its caches first; that is not what is measured,
      // and it must not fall on whichever path happens to be measured first: both paths, both processes.
      log(`API: warm-up, ${S.apiWarmupSeconds} s per path and process, not counted…`);
      for (const base of [urls.on, urls.off]) {
        for (const p of [jobPath, imagePath]) await cannon({ url: `${base}${p}`, connections: S.apiConnections, duration: S.apiWarmupSeconds, headers });
      }
      const poll = await run('poll, read cache on', urls.on, jobPath);
      const pollOff = await run('poll, read cache off', urls.off, jobPath);
      const image = await run('image GET, read cache on', urls.on, imagePath);
      const imageOff = await run('image GET, read cache off', urls.off, imagePath);
      const sub = await run('cache-hit submit', stack.baseUrl, `/v1/images/${lastImage}/transformations`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(lastSpec),
      });
      R.api = {
        pollRps: r1(poll.res.requests.average),
        pollP99Ms: r1(poll.res.latency.p99),
        pollRpsCacheOff: r1(pollOff.res.requests.average),
        pollP99MsCacheOff: r1(pollOff.res.latency.p99),
        imageGetRps: r1(image.res.requests.average),
        imageGetP99Ms: r1(image.res.latency.p99),
        imageGetRpsCacheOff: r1(imageOff.res.requests.average),
        imageGetP99MsCacheOff: r1(imageOff.res.latency.p99),
        cachedSubmitRps: r1(sub.res.requests.average),
        cachedSubmitP99Ms: r1(sub.res.latency.p99),
      };
      R.detail.api = {
        poll: poll.detail,
        pollCacheOff: pollOff.detail,
        imageGet: image.detail,
        imageGetCacheOff: imageOff.detail,
        cachedSubmit: { ...sub.detail, readCache: o.readCache },
        note: 'autocannon runs in the bench process on the same machine as the API, the worker, PostgreSQL and Redis; cache on and off are two API processes on the same database and Redis, loaded one at a time',
      };
      save();
    } else R.skipped.api = 'not selected (--only)';

    if (want('w4') && w4?.input) {
      log(`W4: ${S.w4Jobs} renders of a 12 MP HEIC to 1024 px WebP…`);
      // The upload alone: the API checks the HEIC's header, it does not decode it (decision 045).
      const apiSampler = rssSampler(stack, [stack.apiPid], 50);
      const up0 = process.hrtime.bigint();
      const imageId = (await api.upload(w4.input, 'w4.heic', 'image/heic')).id;
      const uploadMs = Number(process.hrtime.bigint() - up0) / 1e6;
      apiSampler.stop();
      await api.waitThumbnails([imageId]);
      const sampler = rssSampler(stack, stack.workerPids, 250);
      // Quality steps so that no render is a cache hit; each one decodes the HEIC again.
      const t = await pixmillThroughput(api, [imageId], (i) => ({ operations: [{ op: 'resize', width: 1024 }], output: { format: 'webp', quality: 60 + i } }), S.w4Jobs, S.w4Jobs);
      sampler.stop();
      R.w4 = { jobsPerSec: r3(t.wallJobsPerSec), workerPeakRssMb: r1(sampler.peak()) };
      R.detail.w4 = { jobs: S.w4Jobs, seconds: r1(t.seconds), uploadMs: r1(uploadMs), apiPeakRssMbDuringUpload: r1(apiSampler.peak()), input: { width: 4000, height: 3000, bytes: w4.input.length, encoder: 'heif-enc -q 60 (x265)' }, note: 'jobs/s over the whole run (wall): too few jobs for a steady-state window' };
      save();
    } else R.skipped.w4 = want('w4') ? w4?.reason ?? 'no HEIC input' : 'not selected (--only)';

    if (want('w2')) {
      log(`W2: ${S.w2Uploaders} uploaders for ${S.w2Seconds} s (4000×3000 JPEG + 3 eager)…`);
      const sampler = rssSampler(stack, stack.workerPids, 250);
      const w = await w2Run(api, w2Input, S.w2Seconds, S.w2Uploaders, sampler);
      R.w2 = { jobsPerSec: r3(w.jobsPerSec), p50Ms: r1(pct(w.latencies, 50)), p95Ms: r1(pct(w.latencies, 95)), p99Ms: r1(pct(w.latencies, 99)) };
      const win = S.memoryWindowSeconds * 1000;
      const lastT = sampler.samples.at(-1)?.[0] ?? 0;
      const avg = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
      const first = avg(sampler.samples.filter((s) => s[0] <= win).map((s) => s[1]));
      const last = avg(sampler.samples.filter((s) => s[0] >= lastT - win).map((s) => s[1]));
      R.memory.workerPeakRssMb = r1(sampler.peak());
      R.memory.workerGrowthMb = first !== null && last !== null && lastT > 2 * win ? r1(last - first) : null;
      if (R.memory.workerGrowthMb === null) R.skipped.workerGrowth = `run shorter than two ${S.memoryWindowSeconds} s windows`;
      R.detail.w2 = { uploads: w.latencies.length, uploadsPerSec: r3(w.uploadsPerSec), seconds: r1(w.seconds), errors: w.errors.slice(0, 5), errorCount: w.errors.length, latenciesMs: w.latencies.map((l) => Math.round(l)), memoryWindowSeconds: S.memoryWindowSeconds, workerRssFirstWindowMb: r1(first), workerRssLastWindowMb: r1(last), workerRssSamples: sampler.samples.filter((_, i) => i % 4 === 0).map(([t, mb]) => [Math.round(t), r1(mb)]) };
      save();
    } else R.skipped.w2 = 'not selected (--only)';
    if (stack.crashed()) R.detail.crashes = stack.crashes();
  } finally {
    await stack.stop();
  }

  if (want('scale') && R.w1.jobsPerSec !== null) {
    log(`scale-out: restarting with 2 workers × ${S.workerConcurrency / 2}, ${S.scaleJobs} jobs…`);
    stack = await startStack({ ...stackOpts, apiNodeArgs: [], workerNodeArgs: [], workers: 2, env: { ...stackOpts.env, WORKER_CONCURRENCY: String(S.workerConcurrency / 2) } });
    try {
      const api = new Api(stack.baseUrl, await stack.signup());
      const ids = await uploadMany(api, w1Inputs.slice(w1Count, w1Count + Math.ceil(S.scaleJobs / W1_PER_IMAGE)), 'w1.jpg', 'image/jpeg');
      const two = await pixmillThroughput(api, ids, w1Spec, W1_PER_IMAGE, S.scaleJobs);
      R.detail.scale = { oneWorkerJobsPerSec: R.w1.jobsPerSec, twoWorkersJobsPerSec: r2(two.jobsPerSec), jobs: S.scaleJobs, note: 'same total concurrency (2 renders at once); one worker figure is W1 above' };
      R.ratios.twoWorkersVsOne = r3(two.jobsPerSec / R.w1.jobsPerSec);
      save();
    } finally {
      await stack.stop();
    }
  } else R.skipped.scale = want('scale') ? 'needs W1' : 'not selected (--only)';

  if (want('fleet')) {
    const slots = FLEET.workers * FLEET.concurrency;
    const tFleet = now();
    log(`fleet: restarting with ${FLEET.workers} workers × ${FLEET.concurrency}; user A ${S.fleetBurst} jobs alone, then ${S.fleetTrials} × (A ${S.fleetBurst} + B 1)…`);
    // The scheduler's own defaults are what is measured (a running cap given with --env still applies).
    stack = await startStack({ ...stackOpts, apiNodeArgs: [], workerNodeArgs: [], workers: FLEET.workers, env: { ...stackOpts.env, WORKER_CONCURRENCY: String(FLEET.concurrency), ...o.env } });
    try {
      const f = await fleetRun(stack, slots, S.fleetBurst, S.fleetTrials, fleetInput);
      R.fleet = { slots, alone: f.alone, shared: f.shared };
      R.detail.fleet = { workers: FLEET.workers, workerConcurrency: FLEET.concurrency, burst: S.fleetBurst, task: '1200×900 JPEG → 800 px WebP q80 (width and quality step per job)', rawRenderMedianMs: r1(fleetRawMs), sampleEveryMs: FLEET.sampleEveryMs, ...f.detail, scenarioSeconds: r1((now() - tFleet) / 1000) };
      if (stack.crashed()) R.detail.fleet.crashes = stack.crashes();
      save();
    } finally {
      await stack.stop();
    }
  } else R.skipped.fleet = 'not selected (--only)';

  if (want('upload')) {
    const { uploads, mb } = S.uploadMemory;
    log(`API upload memory: bench/upload-memory.js --uploads ${uploads} --mb ${mb}…`);
    const r = spawnSync(process.execPath, [path.join(__dirname, 'upload-memory.js'), '--uploads', String(uploads), '--mb', String(mb), '--no-build'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    const file = r.stdout?.match(/^results: (.+)$/m)?.[1];
    if (file) {
      const u = JSON.parse(fs.readFileSync(path.resolve(root, file), 'utf8'));
      R.memory.apiUploadRssGrowthMb = u.rssMB.growth;
      R.detail.uploadMemory = { uploads, mb, file, peakMb: u.rssMB.peak, beforeMb: u.rssMB.before, pass: u.goal.pass, statuses: u.statuses };
    } else R.skipped.uploadMemory = `upload-memory.js failed (exit ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' ')}`;
    save();
  } else R.skipped.uploadMemory = 'not selected (--only)';

  R.detail.httpRetries = Api.retries;
  R.detail.totalSeconds = r1((now() - tStart) / 1000);
  R.detail.loadAverageAtEnd = os.loadavg().map(r2);
  await s3?.handle.stop();
  if (profileDir) R.detail.profiles = profileSummaries(profileDir, profileRoles);
  save();
  // chart.svg is the one BENCHMARKS.md shows: only runs that write the doc replace it.
  const chartFile = path.join(outDir, o.doc ? 'chart.svg' : `chart-${S.mode}.svg`);
  fs.writeFileSync(chartFile, chartSvg(R, w3Latencies));
  if (o.doc) updateDoc(R, resultFile);
  fs.rmSync(tmp, { recursive: true, force: true });
  printTable(R);
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), resultFile)}\nchart:   ${path.relative(process.cwd(), chartFile)}${o.doc ? '\ndoc:     BENCHMARKS.md' : ''}\ntotal:   ${R.detail.totalSeconds} s\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench: ${err.stack || err}\n`);
    process.exit(1);
  },
);
