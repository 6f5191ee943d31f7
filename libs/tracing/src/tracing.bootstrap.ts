import type { IncomingMessage } from 'node:http';

/** A started OpenTelemetry SDK: flush and stop it when the process closes. */
export interface Tracing {
  endpoint: string;
  /** Exports what is buffered and stops; never rejects (a collector that is down is reported on stderr). */
  shutdown(): Promise<void>;
}

/**
 * Query parameters whose values never reach a span: the OpenTelemetry defaults (signed URLs of
 * S3 and GCS, `sig` of Pixmill's own /i/ and /files URLs) and Pixmill's single-use secrets in
 * links: the `token` of email verification and password reset, the dashboard's `ticket`.
 */
export const REDACTED_QUERY_PARAMS = [
  'sig',
  'Signature',
  'AWSAccessKeyId',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
  'token',
  'ticket',
];

/** `path?query` without its query: what a span may say of a URL whose parameters it cannot know. */
export function withoutQuery(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}

/** Incoming requests that are probes and scrapes, not work: no trace for each of them. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/**
 * Starts OpenTelemetry traces for one process when OTEL_EXPORTER_OTLP_ENDPOINT is set, and
 * does nothing otherwise: the SDK and the instrumentations are required inside this function,
 * so a process without tracing loads none of them (only @opentelemetry/api, whose no-op
 * tracer the code calls; docs/decisions/062).
 *
 * It must run before http, fastify, pg and ioredis are first loaded (the instrumentations
 * patch them as they load), so main.ts imports the bootstrap before anything else, and this
 * is the one setting read from the environment outside libs/config (which validates it too).
 * The SDK reads its other standard settings itself: OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_TRACES_SAMPLER, OTEL_BSP_SCHEDULE_DELAY…
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | null {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true') return null;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { FastifyOtelInstrumentation } = require('@fastify/otel') as typeof import('@fastify/otel');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    // OTLP over HTTP with JSON bodies, to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces.
    traceExporter: new OTLPTraceExporter(),
    // Traces only: metrics are Prometheus' (/metrics), logs are pino's JSON lines on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) => UNTRACED_PATHS.test(req.url ?? ''),
        redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
        redactedQueryParams: REDACTED_QUERY_PARAMS,
        // An outgoing request is a webhook (or storage) URL a customer chose: its query may hold
        // secrets under any name, so the span keeps the URL without it.
        requestHook: (span, req) => {
          if ('httpVersion' in req) return; // incoming: url.path and the redacted url.query above
          const out = req as unknown as { protocol?: string; host?: string; path?: string; getHeader(name: string): unknown };
          const host = (out.getHeader('host') as string | undefined) ?? out.host ?? '';
          span.setAttribute('url.full', `${out.protocol ?? 'http:'}//${host}${withoutQuery(out.path ?? '')}`);
        },
      }),
      // Registered on every Fastify instance as it is created (Nest creates the API's).
      // The request and its handler (the controller), not each of the plugins' hooks.
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        ignorePaths: (route: { url: string }) => UNTRACED_PATHS.test(route.url),
        // Fastify's request span would say url.path with the query string, unredacted.
        requestHook: (span, request) => {
          span.setAttribute('url.path', withoutQuery(request.url));
          span.setAttribute('pixmill.request_id', String(request.id));
        },
      }),
      // Only inside a trace: the worker's reconciler, lease renewals and BullMQ's own polling
      // would otherwise each start a trace of one query or one command, many a second.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return {
    endpoint,
    // Flushes the spans still buffered. A collector that is down must not fail the shutdown: said, then over.
    shutdown: () =>
      sdk.shutdown().catch((err: Error) => {
        process.stderr.write(`tracing: the spans still buffered were not exported: ${err?.message ?? err}\n`);
      }),
  };
}
