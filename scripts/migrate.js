#!/usr/bin/env node
// `npm run migrate`: creates the database if needed and applies pending migrations.
const path = require('node:path');
const { ensureBuild, root } = require('./ensure-build');

async function main() {
  ensureBuild();
  const { loadConfigOrExit } = require(path.join(root, 'dist/libs/config/src'));
  const { migrate } = require(path.join(root, 'dist/libs/db/src'));
  const config = loadConfigOrExit();
  const applied = await migrate(config.database.url);
  const db = new URL(config.database.url);
  process.stdout.write(
    applied.length
      ? `pixmill: applied ${applied.length} migration(s) to ${db.pathname.slice(1)}: ${applied.join(', ')}\n`
      : `pixmill: database ${db.pathname.slice(1)} is up to date\n`,
  );
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`pixmill: migration failed: ${err.message}\n`);
    process.exit(1);
  });
}
module.exports = { main };
