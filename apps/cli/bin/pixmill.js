#!/usr/bin/env node
// The `pixmill` command of @pixmill/cli: the compiled CLI (dist/), nothing else. In the
// Pixmill repository, `npx pixmill` goes through scripts/pixmill.js, which builds it first.
require('../dist/main').run(process.argv.slice(2)).then((code) => process.exit(code));
