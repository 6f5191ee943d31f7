import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

/**
 * What a fresh Node process has loaded after the tracing bootstrap ran under `env`: the
 * OpenTelemetry packages in its module cache, and whether a span made afterwards records.
 */
function afterBootstrap(env: Record<string, string>): { loaded: string[]; recording: boolean } {
  const script = `
    const { startTracing, withSpan } = require(${JSON.stringify(path.join(ROOT, 'libs/tracing/src'))});
    const tracing = startTracing('pixmill-test');
    withSpan('probe', {}, async (span) => span.isRecording()).then(async (recording) => {
      const loaded = [...new Set(Object.keys(require.cache)
        .map((f) => f.match(/node_modules\\/(@opentelemetry\\/[^/]+|@fastify\\/otel)\\//)?.[1])
        .filter(Boolean))].sort();
      await tracing?.shutdown();
      process.stdout.write(JSON.stringify({ loaded, recording }));
    });`;
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out);
}

describe('tracing bootstrap', () => {
  it('without OTEL_EXPORTER_OTLP_ENDPOINT loads no SDK and no instrumentation: only the no-op API', () => {
    expect(afterBootstrap({})).toEqual({ loaded: ['@opentelemetry/api'], recording: false });
  });

  it('OTEL_SDK_DISABLED=true keeps it off even with an endpoint', () => {
    expect(afterBootstrap({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' }).loaded).toEqual(['@opentelemetry/api']);
  });

  it('with an endpoint starts the SDK and the http, fastify, pg and ioredis instrumentations', () => {
    const { loaded, recording } = afterBootstrap({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(loaded).toEqual(
      expect.arrayContaining([
        '@opentelemetry/sdk-node',
        '@opentelemetry/exporter-trace-otlp-http',
        '@opentelemetry/instrumentation-http',
        '@fastify/otel',
        '@opentelemetry/instrumentation-pg',
        '@opentelemetry/instrumentation-ioredis',
      ]),
    );
    expect(recording).toBe(true);
  });
});
