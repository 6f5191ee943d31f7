#!/usr/bin/env node
// `npm start`, the embedded default: build if needed, migrate, then run the API and one
// worker as two processes. Ctrl-C (or SIGTERM) stops both gracefully.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { ensureBuild, root } = require('./ensure-build');

const log = (msg) => process.stdout.write(`pixmill: ${msg}\n`);

async function main() {
  ensureBuild();
  const { loadConfigOrExit } = require(path.join(root, 'dist/libs/config/src'));
  const config = loadConfigOrExit();
  await require('./migrate').main();

  // Each child ends itself once its grace period is over (API_SHUTDOWN_TIMEOUT_MS,
  // WORKER_SHUTDOWN_TIMEOUT_MS; the worker hands its jobs back first). SIGKILL from here is
  // only the backstop, for a child that is stuck even then.
  const BACKSTOP_MARGIN_MS = 10_000;
  const graceMs = { api: config.http.shutdownTimeoutMs, worker: config.worker.shutdownTimeoutMs };
  const children = new Map();
  let stopping = false;
  const stopAll = (signal) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${signal}); jobs in hand may take up to ${Math.round(graceMs.worker / 1000)} s…`);
    for (const [name, child] of children) {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), graceMs[name] + BACKSTOP_MARGIN_MS).unref();
    }
  };

  const run = (name, entry, env = process.env) => {
    const child = spawn(process.execPath, [path.join(root, entry)], { stdio: 'inherit', env });
    children.set(name, child);
    child.on('exit', (code, signal) => {
      children.delete(name);
      if (!stopping) {
        log(`${name} exited unexpectedly (${signal ?? code}); stopping the other process`);
        process.exitCode = 1;
        stopAll('child exit');
      } else if (code !== 0) {
        log(`${name} stopped without finishing its work in hand (${signal ?? code})`);
        process.exitCode = 1;
      }
      if (children.size === 0) process.exit(process.exitCode ?? 0);
    });
  };

  run('api', 'dist/apps/api/src/main.js');
  // Two glibc malloc arenas: the worker's large decode buffers then fragment less (BENCHMARKS.md, W2 memory).
  run('worker', 'dist/apps/worker/src/main.js', { MALLOC_ARENA_MAX: '2', ...process.env });
  log(`API on ${config.http.publicBaseUrl} (OpenAPI ${config.http.publicBaseUrl}/openapi.json, docs ${config.http.publicBaseUrl}/docs)`);
  log(`worker health and metrics on http://127.0.0.1:${config.worker.metricsPort}/metrics`);
  log(`storage: ${config.storage.driver}${config.storage.driver === 'local' ? ` (${path.resolve(config.storage.localDir)})` : ''}; Ctrl-C stops both`);
  process.on('SIGINT', () => stopAll('SIGINT'));
  process.on('SIGTERM', () => stopAll('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`pixmill: failed to start: ${err.stack ?? err}\n`);
  process.exit(1);
});
