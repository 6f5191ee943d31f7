#!/usr/bin/env node
// `node bench/lib/profile-summary.js FILE.cpuprofile [top] [--from=S] [--to=S]`: where a --cpu-prof
// profile (e.g. from `npm run bench -- --profile`) spent its busy time: self time by package and by
// function, and inclusive time (the function and everything it called) by function. Percentages are
// of busy time (idle left out). --from/--to keep only samples between those seconds of the profile,
// e.g. one load phase; the per-second busy timeline printed first shows where the phases are.
const fs = require('node:fs');

function frameName(n) {
  const where = n.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/');
  return `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
}

function packageOf(n) {
  const u = n.callFrame.url;
  const m = u.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  return m ? m[1] : u.includes('/dist/') ? 'pixmill (dist/)' : u.startsWith('node:') ? 'node core' : n.callFrame.functionName;
}

function summarize(file, top = 20, { fromS = 0, toS = Infinity } = {}) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const incl = new Map();
  const pkgs = new Map();
  const timeline = []; // [busy µs, total µs] per second
  let t = 0;
  let busy = 0;
  let idle = 0;
  const add = (map, k, v) => map.set(k, (map.get(k) || 0) + v);
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] || 0;
    t += dt;
    const n = byId.get(id);
    const isIdle = n.callFrame.functionName === '(idle)';
    const sec = Math.floor(t / 1e6);
    timeline[sec] ??= [0, 0];
    timeline[sec][1] += dt;
    if (!isIdle) timeline[sec][0] += dt;
    if (t / 1e6 < fromS || t / 1e6 > toS) return;
    if (isIdle) {
      idle += dt;
      return;
    }
    busy += dt;
    add(self, frameName(n), dt);
    add(pkgs, packageOf(n), dt);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const name = frameName(byId.get(cur));
      if (!seen.has(name)) add(incl, name, dt);
      seen.add(name);
    }
  });
  const fmt = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
  return {
    totalMs: (busy + idle) / 1000,
    busyMs: busy / 1000,
    timeline: timeline.map((x) => (x ? Math.round((x[0] / x[1]) * 100) : 0)),
    functions: fmt(self),
    packages: fmt(pkgs),
    inclusive: fmt(new Map([...incl].filter(([k]) => !k.startsWith('(root)')))),
  };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const [file, top] = args.filter((a) => !a.startsWith('--'));
  const s = summarize(file, Number(top || 20), { fromS: Number(opt('from') ?? 0), toS: Number(opt('to') ?? Infinity) });
  console.log(`profile: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(s.busyMs / 1000).toFixed(1)} s busy
busy % per second: ${s.timeline.map((b, i) => `${i}:${b}`).join(' ')}

self time by package (% of busy):
${s.packages.join('\n')}

self time by function:
${s.functions.join('\n')}

inclusive time by function:
${s.inclusive.join('\n')}`);
}
module.exports = { summarize };
