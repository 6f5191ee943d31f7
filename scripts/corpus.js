#!/usr/bin/env node
// `npm run corpus -- DIR [--ci] [--url http://host:port] [--concurrency 4] [--no-build]`
//
// Robustness run: uploads every regular file under DIR (hidden files excepted) to
// POST /v1/images and checks that each one gets a clean answer — 201, or a 4xx
// problem+json with a `code` among 400/413/415/422 — within 10 s, and that no API or
// worker process crashed. Anything else (5xx, 404, 429, a timeout, a reset connection,
// a crash) fails the run with exit code 1.
//
// Without --url it starts its own stack (database pixmill_corpus, Redis DB 14, a temp
// storage directory) and stops it at the end, with rate limits and quotas raised out of
// the way. With --url the target's own limits apply: one user uploads every file, so a
// 429 (a failure here) means the target needs a higher RATE_LIMIT_PER_MINUTE.
// With --ci only failures and the summary are printed.
const fs = require('node:fs');
const path = require('node:path');

const ACCEPTED = new Set([201, 400, 413, 415, 422]);
const TIMEOUT_MS = 10_000;
// After the last upload, time for the worker to render the queued thumbnails, so a
// worker that dies on one of them is seen by the crash check.
const SETTLE_MS = 5_000;
// Keeps a CI log readable when everything fails the same way.
const MAX_FAILURES_LISTED = 50;

function usage(msg) {
  if (msg) process.stderr.write(`corpus: ${msg}\n`);
  process.stderr.write('usage: node scripts/corpus.js DIR [--ci] [--url http://host:port] [--concurrency 4] [--no-build]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { dir: null, ci: false, url: null, concurrency: 4, build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--ci') opts.ci = true;
    else if (a === '--no-build') opts.build = false;
    else if (a === '--url') opts.url = value().replace(/\/+$/, '');
    else if (a.startsWith('--url=')) opts.url = a.slice(6).replace(/\/+$/, '');
    else if (a === '--concurrency') opts.concurrency = Number(value());
    else if (a.startsWith('--concurrency=')) opts.concurrency = Number(a.slice(14));
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (!opts.dir) opts.dir = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!opts.dir) usage('DIR is required');
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) usage('--concurrency must be a positive integer');
  return opts;
}

/** Every regular file under dir, hidden files and hidden directories excepted, sorted. */
function walk(dir, rel = '') {
  const out = [];
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(dir, relPath));
    else if (entry.isFile()) out.push(relPath);
  }
  return out.sort();
}

async function upload(baseUrl, token, dir, relPath) {
  const bytes = fs.readFileSync(path.join(dir, relPath));
  const form = new FormData();
  form.append('file', new Blob([bytes]), path.basename(relPath));
  const started = performance.now();
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
  const row = { path: relPath, bytes: bytes.length, status: null, code: null, ms: 0, failure: null };
  try {
    const res = await fetch(`${baseUrl}/v1/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
      signal: ctrl.signal,
    });
    const text = await res.text(); // still under the same timeout
    row.status = res.status;
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: reported below */
    }
    row.code = res.status === 201 ? 'created' : (body && body.code) || null;
    if (!ACCEPTED.has(res.status)) row.failure = `unexpected status ${res.status}`;
    else if (res.status !== 201 && !row.code) row.failure = `${res.status} without a problem+json code`;
  } catch (err) {
    if (ctrl.signal.aborted) {
      row.status = 'TIME';
      row.code = 'timeout';
      row.failure = `no answer within ${TIMEOUT_MS / 1000} s`;
    } else {
      row.status = 'ERR';
      row.code = (err.cause && err.cause.code) || err.name;
      row.failure = `network error: ${(err.cause && err.cause.message) || err.message}`;
    }
  } finally {
    clearTimeout(timer);
    row.ms = Math.round(performance.now() - started);
  }
  if (!row.failure && row.ms > TIMEOUT_MS) row.failure = `took ${row.ms} ms (over ${TIMEOUT_MS / 1000} s)`;
  return row;
}

const fmtRow = (r) => `${String(r.status).padEnd(4)} ${String(r.code ?? '-').padEnd(26)} ${String(r.ms).padStart(6)} ms  ${r.path}`;

async function liveStatus(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return res.status;
  } catch (err) {
    return (err.cause && err.cause.code) || err.name;
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = path.resolve(opts.dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) usage(`${opts.dir} is not a directory`);
  const files = walk(dir);
  if (!files.length) usage(`no files under ${opts.dir}`);
  const out = (line) => process.stdout.write(`${line}\n`);

  const { startStack, signup } = require('../bench/lib/stack');
  let stack = null;
  let baseUrl = opts.url;
  if (!baseUrl) {
    stack = await startStack({ database: 'pixmill_corpus', queuePrefix: '{pixmill-corpus}', build: opts.build });
    baseUrl = stack.baseUrl;
  }

  const failures = [];
  const rows = [];
  try {
    const token = await signup(baseUrl);
    out(`corpus: ${files.length} files from ${dir} → ${baseUrl}/v1/images, concurrency ${opts.concurrency}`);
    const started = performance.now();
    let next = 0;
    const runner = async () => {
      while (next < files.length) {
        const row = await upload(baseUrl, token, dir, files[next++]);
        rows.push(row);
        if (row.failure) failures.push(row);
        // --ci: failures are listed once, in the summary.
        if (!opts.ci) out(fmtRow(row) + (row.failure ? `   FAIL: ${row.failure}` : ''));
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, runner));
    const wallMs = performance.now() - started;

    // Process health at the end: a crash mid-run shows up here even if its request
    // happened to get an answer (another replica, or a worker-side crash).
    if (stack) await new Promise((r) => setTimeout(r, SETTLE_MS));
    const processProblems = [];
    if (stack && stack.crashed()) processProblems.push(...stack.crashes());
    const apiLive = await liveStatus(`${baseUrl}/health/live`);
    if (apiLive !== 200) processProblems.push(`API /health/live answered ${apiLive}`);
    for (const url of stack ? stack.workerUrls : []) {
      const s = await liveStatus(`${url}/health/live`);
      if (s !== 200) processProblems.push(`worker ${url}/health/live answered ${s}`);
    }

    summarize(out, rows, failures, processProblems, wallMs, stack);
    return failures.length || processProblems.length ? 1 : 0;
  } finally {
    if (stack) await stack.stop();
  }
}

function summarize(out, rows, failures, processProblems, wallMs, stack) {
  const byStatus = new Map();
  for (const r of rows) {
    const key = `${r.status} ${r.code ?? '-'}`;
    byStatus.set(key, (byStatus.get(key) || 0) + 1);
  }
  const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
  const pct = (p) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))];
  out('');
  out(`summary: ${rows.length} uploads in ${(wallMs / 1000).toFixed(1)} s; p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, max ${ms[ms.length - 1]} ms`);
  for (const [key, n] of [...byStatus].sort((a, b) => a[0].localeCompare(b[0]))) out(`  ${String(n).padStart(5)}  ${key}`);
  out('slowest:');
  for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, 5)) out(`  ${fmtRow(r)}`);
  if (stack) {
    const rss = (pid) => {
      try {
        return `${stack.rss(pid).toFixed(0)} MB (peak ${stack.rss(pid, 'VmHWM').toFixed(0)} MB)`;
      } catch {
        return 'gone';
      }
    };
    out(`memory: API ${rss(stack.apiPid)}; ${stack.workerPids.map((p) => `worker ${rss(p)}`).join(', ')}`);
  }
  if (failures.length) {
    out(`failures (${failures.length}):`);
    const shown = [...failures].sort((a, b) => a.path.localeCompare(b.path)).slice(0, MAX_FAILURES_LISTED);
    for (const r of shown) out(`  ${fmtRow(r)}   ${r.failure}`);
    if (failures.length > shown.length) out(`  … and ${failures.length - shown.length} more`);
  }
  for (const p of processProblems) out(`process: ${p}`);
  const ok = !failures.length && !processProblems.length;
  out(
    ok
      ? `verdict: PASS — every file got 201 or a clean 4xx, none over ${TIMEOUT_MS / 1000} s, no crash`
      : `verdict: FAIL — ${failures.length} bad answer(s), ${processProblems.length} process problem(s)` +
          (stack ? ` (stack log: ${stack.logFile})` : ''),
  );
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`corpus: ${err.stack || err}\n`);
    process.exit(1);
  },
);
