#!/usr/bin/env node
// `npm run bench:public-urls [-- --seconds=N] [--connections=N] [--no-build]`
//
// Pixmill's public image URLs: answers per second and latency of `/i/{imageId}` cache hits
// (a signed URL whose derivative exists: signature check with the keys kept in process, then
// the image row, account setting and derivative in one Redis MGET, 302; decision 050) on one
// API process, with autocannon. Goal: ≥ 3,000 req/s, p99 ≤ 25 ms. Starts a private stack
// (bench/lib/stack.js), renders the derivative once, then measures; writes
// bench/results/public-urls-<ISO date>.json.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startStack } = require('./lib/stack');
const { photoJpeg } = require('./lib/images');
const { root } = require('../scripts/ensure-build');

const autocannon = require(require.resolve('autocannon', { paths: [root] }));
const GOALS = { rps: 3000, p99Ms: 25 };

function arg(name, fallback) {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : fallback;
}

async function main() {
  const seconds = arg('seconds', 15);
  const connections = arg('connections', 20);
  const stack = await startStack({ build: !process.argv.includes('--no-build'), database: 'pixmill_bench_public', queuePrefix: '{pixmill-bench-public}', redisDb: 13 });
  try {
    const token = await stack.signup();
    const auth = { authorization: `Bearer ${token}` };
    const form = new FormData();
    form.append('file', new Blob([await photoJpeg(1600, 1200, 1)], { type: 'image/jpeg' }), 'photo.jpg');
    const up = await fetch(`${stack.baseUrl}/v1/images`, { method: 'POST', headers: auth, body: form });
    if (up.status !== 201) throw new Error(`upload: HTTP ${up.status} ${await up.text()}`);
    const imageId = (await up.json()).id;
    const key = (await (await fetch(`${stack.baseUrl}/v1/url-keys`, { headers: auth })).json()).keys[0].key;
    const target = `/i/${imageId}?resize=640x&format=auto`;
    const url = `${stack.baseUrl}${target}&sig=${crypto.createHmac('sha256', key).update(target).digest('base64url')}`;
    const accept = 'image/avif,image/webp,*/*;q=0.8';
    // The one render; then every request is a cache hit.
    const first = await fetch(url, { headers: { accept }, redirect: 'manual' });
    if (first.status !== 302) throw new Error(`first request: HTTP ${first.status} ${await first.text()}`);
    const run = (duration) =>
      new Promise((resolve, reject) =>
        autocannon({ url, connections, duration, headers: { accept } }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    process.stderr.write(`bench: warm-up 3 s, then ${connections} connections × ${seconds} s of GET ${target}&sig=…\n`);
    await run(3);
    const res = await run(seconds);
    const statuses = { '3xx': res['3xx'], '4xx': res['4xx'], '5xx': res['5xx'], errors: res.errors, timeouts: res.timeouts };
    const result = {
      at: new Date().toISOString(),
      scenario: '/i/ cache hits, one API process, format=auto (Vary: Accept), read cache on',
      connections,
      seconds,
      rps: Math.round(res.requests.average),
      p50Ms: res.latency.p50,
      p99Ms: res.latency.p99,
      requests: res.requests.total,
      statuses,
      goals: { rpsAtLeast3000: res.requests.average >= GOALS.rps, p99AtMost25Ms: res.latency.p99 <= GOALS.p99Ms },
    };
    const out = path.join(__dirname, 'results', `public-urls-${result.at.replace(/[:.]/g, '-')}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${path.relative(process.cwd(), out)}\n`);
    if (res['3xx'] !== res.requests.total) process.exitCode = 1;
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
