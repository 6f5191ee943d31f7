#!/usr/bin/env node
// Asserts the network layout of docker-compose.yml, from `docker-compose config` (the
// resolved file) on stdin: PostgreSQL, Redis and MinIO publish no ports and join only
// internal networks; no service but the CDN and the API publishes a port. Called by
// deploy/check-compose.sh for every Compose it finds.
//
// Usage: docker-compose -f docker-compose.yml config | node deploy/check-compose-networks.js
const path = require('node:path');

const yaml = require(require.resolve('js-yaml', { paths: [path.resolve(__dirname, '..')] }));

const DATA_SERVICES = ['postgres', 'redis', 'minio'];
const MAY_PUBLISH = ['cdn', 'api'];

const input = require('node:fs').readFileSync(0, 'utf8');
const config = yaml.load(input);
const problems = [];
const networks = config.networks ?? {};
const services = config.services ?? {};
const isInternal = (name) => networks[name]?.internal === true;
// A service without `networks` joins the project's `default` network, which is not internal.
const joined = (svc) => (Array.isArray(svc.networks) ? svc.networks : Object.keys(svc.networks ?? { default: null }));
const published = (svc) => (svc.ports ?? []).filter((p) => (typeof p === 'object' ? p.published !== undefined && p.published !== null && p.published !== '' : /^([^:]+:)?\d+(-\d+)?:\d+/.test(String(p))));

for (const name of DATA_SERVICES) {
  const svc = services[name];
  if (!svc) {
    problems.push(`service ${name} is missing`);
    continue;
  }
  if (svc.network_mode) problems.push(`${name} uses network_mode ${svc.network_mode} (must join internal networks only)`);
  const ports = published(svc);
  if (ports.length) problems.push(`${name} publishes ${ports.map((p) => (typeof p === 'object' ? JSON.stringify(p) : p)).join(', ')} (a data service publishes no port)`);
  const open = joined(svc).filter((n) => !isInternal(n));
  if (open.length) problems.push(`${name} joins ${open.join(', ')}, which ${open.length > 1 ? 'are' : 'is'} not internal`);
}
for (const [name, svc] of Object.entries(services)) {
  if (!MAY_PUBLISH.includes(name) && published(svc).length) problems.push(`${name} publishes ports (only ${MAY_PUBLISH.join(' and ')} may)`);
  if (svc.network_mode === 'host') problems.push(`${name} uses the host network`);
}
if (!Object.values(networks).some((n) => n?.internal === true)) problems.push('no internal network is declared');

if (problems.length) {
  for (const p of problems) process.stderr.write(`check-compose: ${p}\n`);
  process.exit(1);
}
process.stdout.write(`check-compose: ${DATA_SERVICES.join(', ')} on internal networks only, no published ports; only ${MAY_PUBLISH.join(' and ')} publish\n`);
