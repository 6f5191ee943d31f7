// Starts a private Pixmill stack (API + N workers from dist/) for benchmarks and
// robustness runs, isolated from `npm start` and the tests: its own database, Redis
// database number, queue prefix, storage directory and ports. Plain CommonJS so the
// bench scripts run with `node` alone.
const { spawn, execFile } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { ensureBuild, root } = require('../../scripts/ensure-build');

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/pixmill';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The caller's DATABASE_URL (or the default) with another database name. */
function databaseUrl(name) {
  const url = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The caller's REDIS_URL (or the default) with another database number. */
function redisUrl(db) {
  const url = new URL(process.env.REDIS_URL || DEFAULT_REDIS_URL);
  url.pathname = `/${db}`;
  return url.toString();
}

/** Drops the bench database so every run starts from the same empty state. */
async function dropDatabase(url) {
  const name = new URL(url).pathname.slice(1);
  // Only ever our own scratch databases: never the default one, never the tests'.
  if (!/^pixmill_[a-z0-9_]+$/.test(name) || name === 'pixmill_test') {
    throw new Error(`refusing to drop database ${JSON.stringify(name)} (expected pixmill_<name>, not pixmill_test)`);
  }
  const { Client } = require(require.resolve('pg', { paths: [root] }));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Deletes the queue keys a previous run left under this prefix (only ours, not the whole DB). */
async function clearQueueKeys(url, prefix) {
  const IORedis = require(require.resolve('ioredis', { paths: [root] }));
  const redis = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// scripts/migrate.js in a child (it reads its settings from the environment). It builds
// first; with the build off, the dist/ migration runner is called directly instead.
const MIGRATE_FROM_DIST = `require(${JSON.stringify(path.join(root, 'dist/libs/db/src'))}).migrate(process.env.DATABASE_URL)
  .then((a) => console.log('pixmill: applied', a.length, 'migration(s)'), (e) => { console.error(e.message); process.exit(1); });`;

function runMigrations(env, logFd, build) {
  const args = build ? [path.join(root, 'scripts/migrate.js')] : ['-e', MIGRATE_FROM_DIST];
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, args, { cwd: root, env }, (err, stdout, stderr) => {
      fs.writeSync(logFd, stdout + stderr);
      if (err) reject(new Error(`migrations failed: ${(stderr || stdout || err.message).trim()}`));
      else resolve();
    });
    child.stdin?.end();
  });
}

async function waitFor200(url, isDead, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const dead = isDead();
    if (dead) throw new Error(dead);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs / 1000} s (${last})`);
}

/** Signs up a fresh user at baseUrl (any Pixmill API); resolves to its access token. */
async function signup(baseUrl) {
  const email = `bench-${Date.now()}-${crypto.randomBytes(4).toString('hex')}@example.com`;
  const res = await fetch(`${baseUrl}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: crypto.randomBytes(12).toString('hex') }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 201 || !body.accessToken) throw new Error(`signup at ${baseUrl} failed: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.accessToken;
}

/** Resident set size of a process in MB (VmRSS), or VmHWM (peak since start) with field 'VmHWM'. */
function rss(pid, field = 'VmRSS') {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/**
 * startStack({ env, workers, database, redisDb, queuePrefix, fresh, log })
 *   env         extra settings for every process (override the stack's own)
 *   workers     number of worker processes (default 1)
 *   database    database name (default pixmill_bench); dropped first when fresh
 *   redisDb     Redis database number (default 14)
 *   queuePrefix QUEUE_PREFIX (default {pixmill-bench}); its keys are cleared when fresh
 *   fresh       drop the database and queue keys first (default true)
 *   build       run ensureBuild() first (default true)
 *   apiEnv      extra settings for the API process only (e.g. NODE_OPTIONS=--cpu-prof)
 *   workerEnv   extra settings for the worker processes only
 *   apiNodeArgs node flags for the API process (e.g. ['--cpu-prof', '--cpu-prof-dir=…'])
 *   workerNodeArgs node flags for the worker processes
 *   log         progress lines (default: stderr)
 */
async function startStack(opts = {}) {
  const {
    env: extraEnv = {},
    workers = 1,
    database = 'pixmill_bench',
    redisDb = 14,
    queuePrefix = '{pixmill-bench}',
    fresh = true,
    build = true,
    apiEnv = {},
    workerEnv = {},
    apiNodeArgs = [],
    workerNodeArgs = [],
    log = (msg) => process.stderr.write(`stack: ${msg}\n`),
  } = opts;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixmill-stack-'));
  const storageDir = path.join(tmp, 'storage');
  fs.mkdirSync(storageDir);
  const logFile = path.join(tmp, 'stack.log');
  const logFd = fs.openSync(logFile, 'a');

  const apiPort = await freePort();
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    PUBLIC_BASE_URL: baseUrl,
    DATABASE_URL: databaseUrl(database),
    REDIS_URL: redisUrl(redisDb),
    QUEUE_PREFIX: queuePrefix,
    STORAGE_DRIVER: 'local',
    STORAGE_LOCAL_DIR: storageDir,
    LOG_LEVEL: 'warn',
    // Quotas and rate limits must never be what a run measures.
    PLAN_FREE_STORAGE_BYTES: String(1024 ** 5),
    PLAN_FREE_DAILY_TRANSFORMS: String(100_000_000),
    PLAN_PRO_DAILY_TRANSFORMS: String(100_000_000),
    RATE_LIMIT_PER_MINUTE: String(100_000_000),
    AUTH_RATE_LIMIT_PER_MINUTE: String(100_000_000),
    ...extraEnv,
  };

  const children = []; // { name, child, exit: Promise, exited: {code, signal} | null }
  let stopping = false;
  const unexpected = [];
  const fail = (err) => {
    err.message += `\nstack log: ${logFile}`;
    return err;
  };
  const killAll = () => children.forEach((c) => c.exited || c.child.kill('SIGKILL'));
  process.once('exit', killAll);
  // Ctrl-C or a SIGTERM to the script stops the children too, instead of orphaning them.
  const onSignal = (signal) => {
    log(`${signal}: stopping the stack`);
    stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const spawnChild = (name, entry, childEnv, nodeArgs = []) => {
    const child = spawn(process.execPath, [...nodeArgs, path.join(root, entry)], { cwd: root, env: childEnv, stdio: ['ignore', logFd, logFd] });
    const rec = { name, child, exited: null };
    rec.exit = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        rec.exited = { code, signal };
        if (!stopping) {
          unexpected.push(`${name} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}`);
          log(`${name} (pid ${child.pid}) exited unexpectedly (${signal ?? `code ${code}`}); log: ${logFile}`);
        }
        resolve(rec.exited);
      }),
    );
    children.push(rec);
    return rec;
  };

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (!c.exited) c.child.kill('SIGTERM');
    const timer = setTimeout(killAll, STOP_TIMEOUT_MS);
    await Promise.all(children.map((c) => c.exit));
    clearTimeout(timer);
    process.removeListener('exit', killAll);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    fs.closeSync(logFd);
    fs.rmSync(storageDir, { recursive: true, force: true });
  };

  try {
    // build: false runs whatever dist/ holds (for a tree that is mid-edit and does not compile).
    if (build) ensureBuild({ quiet: true });
    else if (!fs.existsSync(path.join(root, 'dist/apps/api/src/main.js'))) throw new Error('dist/ is missing and build is off');
    if (fresh) {
      await dropDatabase(env.DATABASE_URL);
      await clearQueueKeys(env.REDIS_URL, queuePrefix);
    }
    await runMigrations(env, logFd, build);

    const api = spawnChild('api', 'dist/apps/api/src/main.js', { ...env, ...apiEnv }, apiNodeArgs);
    const workerRecs = [];
    const workerPorts = [];
    for (let i = 0; i < workers; i++) {
      const port = await freePort();
      workerPorts.push(port);
      workerRecs.push(spawnChild(`worker-${i + 1}`, 'dist/apps/worker/src/main.js', { MALLOC_ARENA_MAX: '2', ...env, ...workerEnv, WORKER_METRICS_PORT: String(port) }, workerNodeArgs));
    }
    const isDead = () => (unexpected.length ? `${unexpected.join('; ')} during start-up` : null);
    await waitFor200(`${baseUrl}/health/ready`, isDead, READY_TIMEOUT_MS);
    for (const port of workerPorts) await waitFor200(`http://127.0.0.1:${port}/health/ready`, isDead, READY_TIMEOUT_MS);
    log(`API ${baseUrl} (pid ${api.child.pid}), ${workers} worker(s) (pid ${workerRecs.map((w) => w.child.pid).join(', ')}), db ${database}, redis db ${redisDb}, log ${logFile}`);

    let extraApis = 0;
    return {
      baseUrl,
      apiPid: api.child.pid,
      /**
       * One more API process on the same database and Redis, with `overrides` on top of the
       * stack's settings (e.g. READ_CACHE=false); stopped with the stack. Resolves to its URL and pid.
       */
      async startApi(overrides = {}) {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        const rec = spawnChild(`api-${++extraApis + 1}`, 'dist/apps/api/src/main.js', { ...env, ...apiEnv, PORT: String(port), PUBLIC_BASE_URL: url, ...overrides }, apiNodeArgs);
        await waitFor200(`${url}/health/ready`, () => (rec.exited ? `extra API exited during start-up (${JSON.stringify(rec.exited)})` : null), READY_TIMEOUT_MS);
        log(`extra API ${url} (pid ${rec.child.pid}) ${JSON.stringify(overrides)}`);
        return { baseUrl: url, pid: rec.child.pid };
      },
      workerPids: workerRecs.map((w) => w.child.pid),
      workerUrls: workerPorts.map((p) => `http://127.0.0.1:${p}`),
      logFile,
      storageDir,
      env,
      /** Signs up a fresh user; resolves to its access token. */
      signup: () => signup(baseUrl),
      rss,
      stop,
      /** True when a child exited while the stack was not being stopped. */
      crashed: () => unexpected.length > 0,
      crashes: () => [...unexpected],
    };
  } catch (err) {
    await stop().catch(() => {});
    throw fail(err);
  }
}

module.exports = { startStack, signup, rss, freePort };
