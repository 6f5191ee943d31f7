#!/usr/bin/env node
// `npx pixmill` in the repository: runs the CLI from its TypeScript (transpile only).
const path = require('node:path');
const root = path.resolve(__dirname, '../../..');
process.env.TS_NODE_PROJECT ??= path.join(root, 'tsconfig.json');
process.env.TS_NODE_TRANSPILE_ONLY = 'true';
require(require.resolve('ts-node/register/transpile-only', { paths: [root] }));
require(require.resolve('tsconfig-paths/register', { paths: [root] }));
require('../src/main').run(process.argv.slice(2)).then((code) => process.exit(code));
