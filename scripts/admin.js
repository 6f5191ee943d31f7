#!/usr/bin/env node
// `npm run admin -- set-plan EMAIL PLAN`: account administration from the command line.
const path = require('node:path');
const { ensureBuild, root } = require('./ensure-build');

const PLANS = ['free', 'pro', 'unlimited'];
const USAGE = `usage: npm run admin -- set-plan EMAIL ${PLANS.join('|')}\n`;

class UsageError extends Error {}

function describe(limits) {
  const unlimited = (n) => n >= Number.MAX_SAFE_INTEGER;
  const transforms = unlimited(limits.dailyTransforms) ? 'unlimited' : String(limits.dailyTransforms);
  const storage = unlimited(limits.storageBytes) ? 'unlimited' : `${(limits.storageBytes / 2 ** 30).toFixed(1)} GiB`;
  return `daily transforms: ${transforms}, storage: ${storage}`;
}

async function setPlan(config, email, plan) {
  const { createDataSource, UserRepository } = require(path.join(root, 'dist/libs/db/src'));
  const ds = createDataSource({ url: config.database.url, poolSize: 1, applicationName: 'pixmill-admin' });
  await ds.initialize();
  try {
    const users = new UserRepository(ds);
    if (!(await users.setPlan(email, plan))) throw new Error(`no account with email ${email}; nothing changed`);
    return `pixmill: ${email} is now on plan ${plan} (${describe(config.plans[plan])})\n`;
  } finally {
    await ds.destroy();
  }
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command !== 'set-plan') throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
  const [email, plan] = args;
  if (!email || !plan || args.length !== 2) throw new UsageError('set-plan takes EMAIL and PLAN');
  if (!PLANS.includes(plan)) throw new UsageError(`unknown plan ${plan} (plans: ${PLANS.join(', ')})`);
  ensureBuild({ quiet: true });
  const { loadConfigOrExit } = require(path.join(root, 'dist/libs/config/src'));
  process.stdout.write(await setPlan(loadConfigOrExit(), email, plan));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`pixmill: ${err.message}\n${err instanceof UsageError ? USAGE : ''}`);
    process.exit(1);
  });
}
module.exports = { main };
