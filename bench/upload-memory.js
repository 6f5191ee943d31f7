#!/usr/bin/env node
// `npm run bench:upload-memory -- [--uploads 50] [--mb 10] [--no-build]`
//
// SPEC §3: POST /v1/images streams and never holds more than one chunk per upload in
// memory. This bench starts a private stack, makes one valid ~10 MiB JPEG, fires all
// uploads at once (one multipart request each) and watches the API process's RSS
// (sampled every 50 ms, plus the kernel's exact peak, VmHWM). Goal: peak growth
// under 150 MB for 50 concurrent 10 MiB uploads — buffering them would need ≥ 500 MB.
// Writes bench/results/upload-memory-<timestamp>.json.
const { prng } = require('./lib/images');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack } = require('./lib/stack');
const { root } = require('../scripts/ensure-build');

const GOAL_GROWTH_MB = 150;
const SAMPLE_MS = 50;
const MiB = 1024 * 1024;

function parseArgs(argv) {
  const opts = { uploads: 50, mb: 10, build: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => Number(inline ?? argv[++i]);
    if (flag === '--uploads') opts.uploads = value();
    else if (flag === '--mb') opts.mb = value();
    else if (flag === '--no-build') opts.build = false;
    else {
      process.stderr.write(`unknown option ${argv[i]}\nusage: node bench/upload-memory.js [--uploads 50] [--mb 10] [--no-build]\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.uploads) || opts.uploads < 1) throw new Error('--uploads must be a positive integer');
  if (!(opts.mb >= 1)) throw new Error('--mb must be at least 1');
  return opts;
}

/**
 * A quality-100 JPEG of RGB noise between (mb - 0.5) and mb MiB. Noise does not
 * compress, so file size is roughly proportional to pixel count: scale and retry.
 */
async function noiseJpeg(mb) {
  const sharp = require(require.resolve('sharp', { paths: [root] }));
  const lo = (mb - 0.5) * MiB;
  const hi = mb * MiB;
  let width = 2000;
  let height = 1500;
  for (let attempt = 0; attempt < 12; attempt++) {
    const rand = prng(0x9e3779b9);
    const next = () => Math.floor(rand() * 4294967296); // the same 32-bit stream as before
    const raw = Buffer.allocUnsafe(width * height * 3);
    for (let i = 0; i < raw.length; i += 4) raw.writeUInt32LE(next(), Math.min(i, raw.length - 4));
    const jpeg = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
    if (jpeg.length >= lo && jpeg.length <= hi) return { jpeg, width, height };
    const k = Math.sqrt((lo + hi) / 2 / jpeg.length);
    width = Math.max(16, Math.round(width * k));
    height = Math.max(16, Math.round((width * 3) / 4));
  }
  throw new Error(`could not make a JPEG between ${mb - 0.5} and ${mb} MiB`);
}

async function uploadOnce(baseUrl, token, blob) {
  const form = new FormData();
  form.append('file', blob, 'noise.jpg');
  const t0 = performance.now();
  try {
    const res = await fetch(`${baseUrl}/v1/images`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    const body = await res.json().catch(() => ({}));
    return { status: res.status, code: res.status === 201 ? 'created' : body.code ?? '-', ms: performance.now() - t0 };
  } catch (err) {
    return { status: 'ERR', code: err.cause?.code ?? err.name, ms: performance.now() - t0 };
  }
}

/** Resets the kernel's peak-RSS counter (VmHWM) of a process we own; false if not allowed. */
function resetPeak(pid) {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  process.stdout.write(`bench: making a ${opts.mb} MiB noise JPEG…\n`);
  const { jpeg, width, height } = await noiseJpeg(opts.mb);
  const maxUploadBytes = Math.ceil(opts.mb + 1) * MiB;
  process.stdout.write(`bench: ${width}×${height} JPEG, ${(jpeg.length / MiB).toFixed(2)} MiB (MAX_UPLOAD_BYTES ${maxUploadBytes / MiB} MiB)\n`);

  const stack = await startStack({
    database: 'pixmill_bench',
    queuePrefix: '{pixmill-bench}',
    build: opts.build,
    env: { MAX_UPLOAD_BYTES: String(maxUploadBytes) },
  });
  try {
    const pid = stack.apiPid;
    const token = await stack.signup();
    const blob = new Blob([jpeg], { type: 'image/jpeg' });
    const rssAtBoot = stack.rss(pid);

    // One upload first, so lazily loaded code (and sharp, if the API probes) is in
    // memory before "before": growth then measures concurrency, not start-up.
    const warmup = await uploadOnce(stack.baseUrl, token, blob);
    if (warmup.status !== 201) throw new Error(`warm-up upload answered ${warmup.status} ${warmup.code}; log: ${stack.logFile}`);
    await new Promise((r) => setTimeout(r, 1000));

    const before = stack.rss(pid);
    const hwmReset = resetPeak(pid);
    let peakSampled = before;
    const samples = [];
    const t0 = performance.now();
    const sampler = setInterval(() => {
      try {
        const mb = stack.rss(pid);
        samples.push([Math.round(performance.now() - t0), Number(mb.toFixed(1))]);
        peakSampled = Math.max(peakSampled, mb);
      } catch {
        /* process gone: reported as a crash below */
      }
    }, SAMPLE_MS);

    const results = await Promise.all(Array.from({ length: opts.uploads }, () => uploadOnce(stack.baseUrl, token, blob)));
    const wallMs = performance.now() - t0;
    clearInterval(sampler);
    const after = stack.rss(pid);
    const peakKernel = hwmReset ? stack.rss(pid, 'VmHWM') : null;
    await new Promise((r) => setTimeout(r, 3000));
    const afterSettled = stack.rss(pid);

    const peak = Math.max(peakSampled, peakKernel ?? 0);
    const growth = peak - before;
    const statuses = {};
    for (const r of results) statuses[`${r.status} ${r.code}`] = (statuses[`${r.status} ${r.code}`] || 0) + 1;
    const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
    const created = results.filter((r) => r.status === 201).length;
    const crashed = stack.crashed();
    const pass = growth < GOAL_GROWTH_MB && created === opts.uploads && !crashed;

    const f = (mb) => `${mb.toFixed(1)} MB`;
    const table = [
      ['uploads', `${opts.uploads} concurrent × ${(jpeg.length / MiB).toFixed(2)} MiB (${width}×${height} JPEG q100)`],
      ['API RSS at boot', f(rssAtBoot)],
      ['API RSS before', `${f(before)} (after 1 warm-up upload)`],
      ['API RSS peak', `${f(peak)} (sampled every ${SAMPLE_MS} ms: ${f(peakSampled)}; kernel VmHWM: ${peakKernel === null ? 'n/a' : f(peakKernel)})`],
      ['API RSS after', `${f(after)}; 3 s later ${f(afterSettled)}`],
      ['peak growth', `${f(growth)} (goal < ${GOAL_GROWTH_MB} MB)`],
      ['wall time', `${(wallMs / 1000).toFixed(2)} s`],
      ['throughput', `${(opts.uploads / (wallMs / 1000)).toFixed(1)} uploads/s, ${((opts.uploads * jpeg.length) / MiB / (wallMs / 1000)).toFixed(0)} MiB/s`],
      ['latency', `min ${latencies[0].toFixed(0)} ms, p50 ${latencies[Math.floor(latencies.length / 2)].toFixed(0)} ms, max ${latencies[latencies.length - 1].toFixed(0)} ms`],
      ['statuses', Object.entries(statuses).map(([k, n]) => `${n} × ${k}`).join(', ')],
      ['processes', crashed ? `CRASHED: ${stack.crashes().join('; ')}` : 'no crash'],
      ['verdict', pass ? 'PASS' : `FAIL${growth >= GOAL_GROWTH_MB ? ' (memory)' : ''}${created !== opts.uploads ? ' (not all 201)' : ''}${crashed ? ' (crash)' : ''}`],
    ];
    const w = Math.max(...table.map(([k]) => k.length));
    process.stdout.write(`\n${table.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`);

    const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
    const outDir = path.join(root, 'bench', 'results');
    fs.mkdirSync(outDir, { recursive: true });
    const outFile = path.join(outDir, `upload-memory-${stamp}.json`);
    const round = (n) => (n === null ? null : Number(n.toFixed(1)));
    fs.writeFileSync(
      outFile,
      `${JSON.stringify(
        {
          bench: 'upload-memory',
          date: new Date().toISOString(),
          host: { node: process.version, cpus: os.cpus().length, totalMemMB: Math.round(os.totalmem() / MiB) },
          gitHead: gitHead(),
          params: { uploads: opts.uploads, bytes: jpeg.length, width, height, maxUploadBytes, sampleMs: SAMPLE_MS, warmupUploads: 1 },
          rssMB: { atBoot: round(rssAtBoot), before: round(before), peak: round(peak), peakSampled: round(peakSampled), peakKernel: round(peakKernel), after: round(after), afterSettled: round(afterSettled), growth: round(growth) },
          goal: { growthMBBelow: GOAL_GROWTH_MB, pass },
          wallMs: Math.round(wallMs),
          uploadsPerSecond: Number((opts.uploads / (wallMs / 1000)).toFixed(2)),
          latencyMs: { min: Math.round(latencies[0]), p50: Math.round(latencies[Math.floor(latencies.length / 2)]), max: Math.round(latencies[latencies.length - 1]) },
          statuses,
          crashed,
          samples,
        },
        null,
        2,
      )}\n`,
    );
    process.stdout.write(`\nresults: ${path.relative(process.cwd(), outFile)}\n`);
    return pass ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

function gitHead() {
  try {
    return require('node:child_process').execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${err.stack || err}\n`);
    process.exit(1);
  },
);
