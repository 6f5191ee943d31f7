#!/usr/bin/env node
// `npm run openapi`: writes the document the API serves at /openapi.json to openapi.json in the
// repository (the SDK's types are generated from that file; a test fails when the two differ).
// The API is built and initialised, not started: it needs PostgreSQL (the database is created and
// migrated as by `npm run migrate`) and Redis, as `npm start` does.
const fs = require('node:fs');
const path = require('node:path');
const { ensureBuild, root } = require('./ensure-build');

async function servedDocument() {
  ensureBuild({ quiet: true });
  const { loadConfig } = require(path.join(root, 'dist/libs/config/src'));
  const { migrate } = require(path.join(root, 'dist/libs/db/src'));
  const { createApiApp } = require(path.join(root, 'dist/apps/api/src/api.factory'));
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  await migrate(config.database.url); // the API refuses to boot on a database that is missing
  const app = await createApiApp(config);
  try {
    await app.init();
    const fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
    const res = await fastify.inject({ method: 'GET', url: '/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`/openapi.json answered ${res.statusCode}`);
    return JSON.parse(res.body);
  } finally {
    await app.close();
  }
}

/** The committed form: two-space JSON and a final newline, so diffs stay readable. */
function format(doc) {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

async function main() {
  const file = path.join(root, 'openapi.json');
  const text = format(await servedDocument());
  const changed = !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text;
  fs.writeFileSync(file, text);
  process.stdout.write(`pixmill: ${changed ? 'wrote' : 'unchanged'} ${path.relative(process.cwd(), file) || file}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`pixmill: openapi failed: ${err.stack ?? err}\n`);
    process.exit(1);
  });
}
module.exports = { format };
