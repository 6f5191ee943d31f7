#!/usr/bin/env node
// `npm run bench:cdn-hit-ratio [-- --requests=4000] [--images=20] [--variants=10] [--zipf=1.0]
//                               [--concurrency=8] [--no-build]`
//
// The CDN hit ratio of Pixmill's public image URLs, measured through the real nginx config
// (deploy/nginx/public-images.conf) in front of a private stack (bench/lib/stack.js: API and a
// worker). The catalogue is images × variants signed `/i/{id}?resize={w}x&format=auto` URLs;
// each request picks a URL by a Zipf law (rank r with weight 1/r^s, a fixed seed) and a
// browser Accept class (AVIF 55 %, WebP 35 %, other 10 %: the config's cache key splits on
// it). The first request of a URL renders the derivative (up to 10 s) and answers 302.
//
// It reports the hit ratio nginx gave (X-Cache-Status), the requests that reached the API (its
// own /metrics, not nginx's word) and the ideal ratio for the same sequence, 1 − distinct
// keys / requests (an unbounded cache that never expires: every key's first request must
// miss). The gap between the two is what the config loses (expiry, cache-key splits beyond
// the Accept class, lock time-outs); the ideal itself is a property of the popularity law and
// of requests per object, which only production traffic can give. Writes
// bench/results/cdn-hit-ratio-<ISO date>.json.
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack, freePort } = require('./lib/stack');
const { photoJpeg, prng } = require('./lib/images');
const { root } = require('../scripts/ensure-build');

function arg(name, fallback) {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : fallback;
}
const log = (msg) => process.stderr.write(`cdn-hit-ratio: ${msg}\n`);
const r3 = (n) => Number(n.toFixed(3));

/** nginx with a deploy/nginx conf.d file, as libs/testing/src/nginx.harness.ts runs it. */
async function startNginx(confFile, originVar, origin) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixmill-cdn-bench-'));
  fs.chmodSync(dir, 0o755);
  for (const d of ['cache', 'logs', 'temp']) {
    fs.mkdirSync(path.join(dir, d));
    fs.chmodSync(path.join(dir, d), 0o777); // nginx's workers run as nobody when started as root
  }
  const port = await freePort();
  const conf = fs
    .readFileSync(confFile, 'utf8')
    .replace(/\/var\/cache\/nginx\/[A-Za-z0-9_-]+/g, path.join(dir, 'cache'))
    .replace(/\/var\/log\/nginx\//g, `${path.join(dir, 'logs')}/`)
    .replace(/^(\s*listen\s+)80([\s;])/m, `$1127.0.0.1:${port}$2`)
    .replace(new RegExp(`set \\$${originVar} "[^"]*";`), `set $${originVar} "${origin}";`);
  fs.writeFileSync(path.join(dir, 'site.conf'), conf);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((m) => `${m}_temp_path ${dir}/temp/${m};`).join('\n  ');
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/logs/error.log warn;\nevents { worker_connections 256; }\n` +
      `http {\n  default_type application/octet-stream;\n  ${temp}\n  include ${dir}/site.conf;\n}\n`,
  );
  const bin = process.env.NGINX ?? ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p)) ?? 'nginx';
  const child = spawn(bin, ['-p', `${dir}/`, '-e', `${dir}/logs/error.log`, '-c', `${dir}/nginx.conf`], { stdio: 'ignore' });
  process.once('exit', () => child.exitCode === null && child.kill('SIGKILL'));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${fs.readFileSync(path.join(dir, 'logs', 'error.log'), 'utf8')}`);
    try {
      await fetch(`${baseUrl}/`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('nginx did not start listening');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    baseUrl,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Requests the API answered on /i/ (its own metrics). */
async function apiPublicHits(baseUrl) {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('pixmill_http_request_duration_seconds_count') && l.includes('route="/i/'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

const ACCEPT = [
  ['avif', 0.55, 'image/avif,image/webp,image/apng,*/*;q=0.8'],
  ['webp', 0.35, 'image/webp,*/*'],
  ['other', 0.1, '*/*'],
];

async function main() {
  const requests = arg('requests', 4000);
  const images = arg('images', 20);
  const variants = arg('variants', 10);
  const zipf = arg('zipf', 1.0);
  const concurrency = arg('concurrency', 8);
  const stack = await startStack({
    build: !process.argv.includes('--no-build'),
    database: 'pixmill_bench_cdn',
    queuePrefix: '{pixmill-bench-cdn}',
    redisDb: 12,
    env: { PUBLIC_RENDERS_PER_MINUTE: '100000000' },
  });
  let cdn;
  try {
    const token = await stack.signup();
    const auth = { authorization: `Bearer ${token}` };
    const ids = [];
    for (let i = 0; i < images; i++) {
      const form = new FormData();
      form.append('file', new Blob([await photoJpeg(800, 600, 500 + i)], { type: 'image/jpeg' }), `cdn-${i}.jpg`);
      const up = await fetch(`${stack.baseUrl}/v1/images`, { method: 'POST', headers: auth, body: form });
      if (up.status !== 201) throw new Error(`upload: HTTP ${up.status} ${await up.text()}`);
      ids.push((await up.json()).id);
    }
    const key = (await (await fetch(`${stack.baseUrl}/v1/url-keys`, { headers: auth })).json()).keys[0].key;
    // The catalogue, most popular first (rank order is a shuffle of images × widths).
    const rand = prng(42);
    const catalogue = [];
    for (const id of ids) for (let v = 0; v < variants; v++) catalogue.push(`/i/${id}?resize=${120 + v * 40}x&format=auto`);
    for (let i = catalogue.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [catalogue[i], catalogue[j]] = [catalogue[j], catalogue[i]];
    }
    const weights = catalogue.map((_, r) => 1 / (r + 1) ** zipf);
    const total = weights.reduce((a, b) => a + b, 0);
    const cdf = [];
    weights.reduce((acc, w, i) => (cdf[i] = acc + w / total), 0);
    const pick = () => {
      const u = rand();
      let lo = 0;
      let hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] < u) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const pickAccept = () => {
      const u = rand();
      let acc = 0;
      for (const a of ACCEPT) if (u < (acc += a[1])) return a;
      return ACCEPT[ACCEPT.length - 1];
    };
    const sequence = Array.from({ length: requests }, () => [pick(), pickAccept()]);
    const distinctKeys = new Set(sequence.map(([r, a]) => `${r}|${a[0]}`)).size;

    cdn = await startNginx(path.join(root, 'deploy/nginx/public-images.conf'), 'api_origin', new URL(stack.baseUrl).host);
    log(`${catalogue.length} URLs × 3 Accept classes, ${requests} requests (Zipf s=${zipf}), ${distinctKeys} distinct keys, nginx ${cdn.baseUrl}`);
    const before = await apiPublicHits(stack.baseUrl);
    const cache = {};
    const statuses = {};
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < sequence.length) {
          const [rank, accept] = sequence[next++];
          const target = catalogue[rank];
          const sig = crypto.createHmac('sha256', key).update(target).digest('base64url');
          const res = await fetch(`${cdn.baseUrl}${target}&sig=${sig}`, { redirect: 'manual', headers: { accept: accept[2] } });
          await res.arrayBuffer();
          const c = res.headers.get('x-cache-status') || 'none';
          cache[c] = (cache[c] ?? 0) + 1;
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const origin = (await apiPublicHits(stack.baseUrl)) - before;
    const hits = cache.HIT ?? 0;
    const result = {
      at: new Date().toISOString(),
      scenario: '/i/ through deploy/nginx/public-images.conf, Zipf URL mix, three Accept classes',
      settings: { requests, images, variants, urls: catalogue.length, zipf, concurrency, accept: Object.fromEntries(ACCEPT.map(([k, p]) => [k, p])) },
      seconds: r3(seconds),
      distinctKeys,
      requestsPerDistinctKey: r3(requests / distinctKeys),
      cacheStatus: cache,
      statuses,
      originRequests: origin,
      hitRatio: r3(hits / requests),
      originRatio: r3(origin / requests),
      idealHitRatio: r3(1 - distinctKeys / requests),
      lostToConfig: r3(1 - distinctKeys / requests - hits / requests),
    };
    const out = path.join(root, 'bench/results', `cdn-hit-ratio-${result.at.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
    fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `${requests} requests in ${result.seconds} s over ${catalogue.length} URLs (Zipf s=${zipf}, 3 Accept classes): ${distinctKeys} distinct cache keys\n` +
        `nginx: ${Object.entries(cache).map(([k, v]) => `${k} ${v}`).join(', ')}; answers ${Object.entries(statuses).map(([k, v]) => `${k} ${v}`).join(', ')}\n` +
        `hit ratio ${result.hitRatio} (ideal for this sequence ${result.idealHitRatio}), requests reaching the API ${origin} (${result.originRatio})\n` +
        `results: ${path.relative(process.cwd(), out)}\n`,
    );
  } finally {
    await cdn?.stop();
    await stack.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
