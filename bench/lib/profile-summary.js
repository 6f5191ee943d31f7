#!/usr/bin/env node
// `node bench/lib/profile-summary.js FILE.cpuprofile [top]`: self time by function and by
// package of a --cpu-prof profile (e.g. the API's, from `npm run bench -- --profile-api`).
const fs = require('node:fs');

function summarize(file, top = 20) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const dt = new Map();
  p.samples.forEach((id, i) => dt.set(id, (dt.get(id) || 0) + (p.timeDeltas[i] || 0)));
  const total = [...dt.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map();
  const byPkg = new Map();
  for (const n of p.nodes) {
    const t = dt.get(n.id) || 0;
    if (!t) continue;
    const u = n.callFrame.url;
    const where = u.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/');
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) || 0) + t);
    const m = u.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
    const pkg = m ? m[1] : u.includes('/dist/') ? 'pixmill (dist/)' : u.startsWith('node:') ? 'node core' : n.callFrame.functionName;
    byPkg.set(pkg, (byPkg.get(pkg) || 0) + t);
  }
  const fmt = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  return { totalMs: total / 1000, functions: fmt(byFn), packages: fmt(byPkg) };
}

if (require.main === module) {
  const s = summarize(process.argv[2], Number(process.argv[3] || 20));
  console.log(`profile: ${(s.totalMs / 1000).toFixed(1)} s sampled\n\nself time by package:\n${s.packages.join('\n')}\n\nself time by function:\n${s.functions.join('\n')}`);
}
module.exports = { summarize };
