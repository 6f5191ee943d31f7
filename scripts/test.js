#!/usr/bin/env node
// `npm test`: every jest test (unit, integration, end-to-end, the browser run of the web console),
// then the web console's component tests (Vitest, jsdom). Arguments go to jest alone and then skip
// Vitest (`npm test -- path/to/file`). Exits non-zero when either fails.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const args = process.argv.slice(2);
const run = (cmd, argv, env = process.env) => spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', env }).status ?? 1;

const jest = run(bin('jest'), ['--runInBand', ...args], { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' });
const vitest = args.length ? 0 : run(bin('vitest'), ['run', '--config', 'apps/web/vite.config.mts']);
process.exit(jest || vitest ? 1 : 0);
