// Builds dist/ when it is missing or older than any TypeScript source, so `npm start`
// and `npm run migrate` work straight after `npm ci`.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');

function newestMtime(dir, exts = ['.ts', '.json'], skip = path.join(root, 'apps', 'web')) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = p === skip ? newest : Math.max(newest, newestMtime(p, exts, skip));
    else if (exts.some((ext) => entry.name.endsWith(ext))) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

// The web console (apps/web, Vite) is built to dist/web, which the API serves at /.
const web = path.join(root, 'apps', 'web');
const webStamp = path.join(root, 'dist', 'web', 'index.html');

function ensureWebBuild({ quiet = false } = {}) {
  // The console bundles the SDK from its sources (libs/sdk/src), so a change there rebuilds it too.
  const sources = Math.max(
    newestMtime(web, ['.ts', '.tsx', '.css', '.html', '.json'], null),
    newestMtime(path.join(root, 'libs', 'sdk', 'src'), ['.ts'], null),
    fs.statSync(path.join(root, 'package-lock.json')).mtimeMs,
  );
  const built = fs.existsSync(webStamp) ? fs.statSync(webStamp).mtimeMs : 0;
  if (built >= sources) return false;
  if (!quiet) process.stdout.write('pixmill: building the web console (vite build)…\n');
  execFileSync(path.join(root, 'node_modules', '.bin', 'vite'), ['build', '--config', path.join(web, 'vite.config.mts'), '--logLevel', 'warn'], {
    cwd: root,
    stdio: quiet ? 'ignore' : 'inherit',
    // Under jest NODE_ENV is `test`, which would give React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  return true;
}

function ensureBuild({ quiet = false } = {}) {
  const sources = Math.max(
    newestMtime(path.join(root, 'apps')),
    newestMtime(path.join(root, 'libs')),
    fs.statSync(path.join(root, 'tsconfig.json')).mtimeMs,
    fs.statSync(path.join(root, 'tsconfig.build.json')).mtimeMs,
  );
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  const webBuilt = ensureWebBuild({ quiet });
  if (built >= sources) return webBuilt;
  if (!quiet) process.stdout.write('pixmill: building (nest build)…\n');
  execFileSync(path.join(root, 'node_modules', '.bin', 'nest'), ['build', 'api'], { cwd: root, stdio: 'inherit' });
  fs.writeFileSync(stamp, new Date().toISOString());
  return true;
}

module.exports = { ensureBuild, ensureWebBuild, newestMtime, root };
if (require.main === module) ensureBuild();
