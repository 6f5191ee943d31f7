// Validates every manifest in deploy/k8s against the Kubernetes (and KEDA) JSON schemas
// shipped in the kubernetes-models packages, and checks what the schemas cannot: probes on
// /health/live and /health/ready, grace periods matching the shutdown settings.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

const dir = path.dirname(fileURLToPath(import.meta.url));
const modules = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
};
const problems = [];
const docs = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  for (const doc of yaml.loadAll(readFileSync(path.join(dir, file), 'utf8'))) {
    if (!doc) continue;
    const where = `${file}: ${doc.kind}/${doc.metadata?.name}`;
    docs.push(doc);
    const mod = modules[doc.apiVersion];
    if (!mod) {
      problems.push(`${where}: no schema for apiVersion ${doc.apiVersion}`);
      continue;
    }
    const Model = (await import(mod))[doc.kind];
    if (!Model) {
      problems.push(`${where}: no schema for kind ${doc.kind} in ${doc.apiVersion}`);
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (err) {
      problems.push(`${where}: ${err.message}`);
    }
  }
}

const config = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'pixmill-config')?.data ?? {};
const byName = (kind, name) => docs.find((d) => d.kind === kind && d.metadata.name === name);
for (const [name, setting] of [['pixmill-api', 'API_SHUTDOWN_TIMEOUT_MS'], ['pixmill-worker', 'WORKER_SHUTDOWN_TIMEOUT_MS']]) {
  const dep = byName('Deployment', name);
  if (!dep) {
    problems.push(`Deployment ${name} missing`);
    continue;
  }
  const grace = dep.spec.template.spec.terminationGracePeriodSeconds;
  const shutdownS = Number(config[setting]) / 1000;
  if (!(grace > shutdownS)) problems.push(`${name}: terminationGracePeriodSeconds ${grace} must exceed ${setting} (${shutdownS} s)`);
  const c = dep.spec.template.spec.containers[0];
  if (c.readinessProbe?.httpGet?.path !== '/health/ready') problems.push(`${name}: readiness probe must be /health/ready`);
  if (c.livenessProbe?.httpGet?.path !== '/health/live') problems.push(`${name}: liveness probe must be /health/live`);
  if (!byName('PodDisruptionBudget', name)) problems.push(`${name}: no PodDisruptionBudget`);
}
if (!byName('HorizontalPodAutoscaler', 'pixmill-api')) problems.push('no HorizontalPodAutoscaler for the API');
if (!byName('ScaledObject', 'pixmill-worker')) problems.push('no KEDA ScaledObject for the workers');
if (!docs.some((d) => d.kind === 'Job')) problems.push('no migration Job');

if (problems.length) {
  console.error(`deploy/k8s: ${problems.length} problem(s)\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
console.log(`deploy/k8s: ${docs.length} manifests valid against the Kubernetes schemas`);
