#!/usr/bin/env node
// The `pixmill` command: the compiled CLI in dist/. In the Pixmill repository, where its TypeScript
// sources sit next to it (the package ships none), it is built first when they or the SDK's changed,
// so `npx pixmill` runs the current code (docs/decisions/056).
const fs = require('node:fs');
const path = require('node:path');

const repositoryBuild = path.join(__dirname, '../../../scripts/ensure-cli-build.js');
if (fs.existsSync(path.join(__dirname, '../src/main.ts')) && fs.existsSync(repositoryBuild)) {
  require(repositoryBuild).ensureCliBuild({ quiet: true });
}
require('../dist/main').run(process.argv.slice(2)).then((code) => process.exit(code));
