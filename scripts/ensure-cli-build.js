// Builds the `pixmill` CLI (apps/cli, package @pixmill/cli) to JavaScript when it is missing or
// older than its sources: first @pixmill/sdk (libs/sdk/dist, whose declarations the CLI compiles
// against), then apps/cli/dist. The CLI imports `@pixmill/sdk` as a package, exactly as it does when
// installed from the tarballs, so apps/cli/node_modules/@pixmill/sdk links to libs/sdk here
// (docs/decisions/056). `--clean` rebuilds both from scratch (npm pack's prepack).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { newestMtime, root } = require('./ensure-build');

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const sdk = path.join(root, 'libs', 'sdk');
const cli = path.join(root, 'apps', 'cli');

/** Runs tsc for a package whose sources changed since its stamp; true when it built. */
function buildPackage(dir, { force, quiet }) {
  const dist = path.join(dir, 'dist');
  const stamp = path.join(dist, '.build-stamp');
  const sources = Math.max(newestMtime(path.join(dir, 'src'), ['.ts'], null), ...['tsconfig.json', 'package.json'].map((f) => fs.statSync(path.join(dir, f)).mtimeMs));
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  if (!force && built >= sources) return false;
  if (!quiet) process.stderr.write(`pixmill: building ${path.relative(root, dir)} (tsc)…\n`);
  fs.rmSync(dist, { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir, stdio: quiet ? 'pipe' : 'inherit' });
  } catch (err) {
    // tsc reports on stdout: a quiet build still shows why it failed.
    if (quiet) process.stderr.write(`${err.stdout ?? ''}${err.stderr ?? ''}`);
    throw new Error(`pixmill: building ${path.relative(root, dir)} failed`);
  }
  fs.writeFileSync(stamp, new Date().toISOString());
  return true;
}

/** The link a workspace would make: apps/cli resolves `@pixmill/sdk` to libs/sdk. */
function linkSdk() {
  const link = path.join(cli, 'node_modules', '@pixmill', 'sdk');
  const target = path.relative(path.dirname(link), sdk);
  const current = fs.lstatSync(link, { throwIfNoEntry: false });
  if (current?.isSymbolicLink() && fs.readlinkSync(link) === target) return;
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(target, link, 'dir');
}

function ensureCliBuild({ clean = false, quiet = false } = {}) {
  const sdkBuilt = buildPackage(sdk, { force: clean, quiet });
  linkSdk();
  return buildPackage(cli, { force: clean || sdkBuilt, quiet }) || sdkBuilt;
}

module.exports = { ensureCliBuild, cli, sdk };
if (require.main === module) ensureCliBuild({ clean: process.argv.includes('--clean') });
