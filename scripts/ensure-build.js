// Builds dist/ when it is missing or older than any TypeScript source, so `npm start`
// and `npm run migrate` work straight after `npm ci`.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuild({ quiet = false } = {}) {
  const sources = Math.max(
    newestMtime(path.join(root, 'apps')),
    newestMtime(path.join(root, 'libs')),
    fs.statSync(path.join(root, 'tsconfig.json')).mtimeMs,
    fs.statSync(path.join(root, 'tsconfig.build.json')).mtimeMs,
  );
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  if (built >= sources) return false;
  if (!quiet) process.stdout.write('pixmill: building (nest build)…\n');
  execFileSync(path.join(root, 'node_modules', '.bin', 'nest'), ['build', 'api'], { cwd: root, stdio: 'inherit' });
  fs.writeFileSync(stamp, new Date().toISOString());
  return true;
}

module.exports = { ensureBuild, root };
if (require.main === module) ensureBuild();
