#!/usr/bin/env node
// `npm run admin -- set-plan EMAIL PLAN` and `set-role EMAIL ROLE`: account administration from the command line.
const path = require('node:path');
const { ensureBuild, root } = require('./ensure-build');

const PLANS = ['free', 'pro', 'unlimited'];
const ROLES = ['user', 'admin'];
const USAGE =
  `usage: npm run admin -- set-plan EMAIL ${PLANS.join('|')}\n` +
  `       npm run admin -- set-role EMAIL ${ROLES.join('|')}   (admin: the queue dashboard at /admin/queues)\n`;

class UsageError extends Error {}

function describe(limits) {
  const unlimited = (n) => n >= Number.MAX_SAFE_INTEGER;
  const transforms = unlimited(limits.dailyTransforms) ? 'unlimited' : String(limits.dailyTransforms);
  const storage = unlimited(limits.storageBytes) ? 'unlimited' : `${(limits.storageBytes / 2 ** 30).toFixed(1)} GiB`;
  return `daily transforms: ${transforms}, storage: ${storage}`;
}

async function withUsers(config, work) {
  const { createDataSource, UserRepository } = require(path.join(root, 'dist/libs/db/src'));
  const ds = createDataSource({ url: config.database.url, poolSize: 1, applicationName: 'pixmill-admin' });
  await ds.initialize();
  try {
    return await work(new UserRepository(ds));
  } finally {
    await ds.destroy();
  }
}

function setPlan(config, email, plan) {
  return withUsers(config, async (users) => {
    if (!(await users.setPlan(email, plan))) throw new Error(`no account with email ${email}; nothing changed`);
    return `pixmill: ${email} is now on plan ${plan} (${describe(config.plans[plan])})\n`;
  });
}

function setRole(config, email, role) {
  return withUsers(config, async (users) => {
    if (!(await users.setRole(email, role))) throw new Error(`no account with email ${email}; nothing changed`);
    const what = role === 'admin' ? 'may open the queue dashboard (/admin/queues)' : 'has no admin access';
    return `pixmill: ${email} now has role ${role} (${what})\n`;
  });
}

const COMMANDS = {
  'set-plan': { values: PLANS, noun: 'plan', run: setPlan },
  'set-role': { values: ROLES, noun: 'role', run: setRole },
};

async function main(argv) {
  const [command, ...args] = argv;
  const cmd = Object.hasOwn(COMMANDS, command ?? '') ? COMMANDS[command] : undefined;
  if (!cmd) throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
  const [email, value] = args;
  if (!email || !value || args.length !== 2) throw new UsageError(`${command} takes EMAIL and ${cmd.noun.toUpperCase()}`);
  if (!cmd.values.includes(value)) throw new UsageError(`unknown ${cmd.noun} ${value} (${cmd.noun}s: ${cmd.values.join(', ')})`);
  ensureBuild({ quiet: true });
  const { loadConfigOrExit } = require(path.join(root, 'dist/libs/config/src'));
  process.stdout.write(await cmd.run(loadConfigOrExit(), email, value));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`pixmill: ${err.message}\n${err instanceof UsageError ? USAGE : ''}`);
    process.exit(1);
  });
}
module.exports = { main };
