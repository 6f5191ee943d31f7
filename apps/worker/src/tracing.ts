import { startTracing } from '@pixmill/tracing';

/**
 * OpenTelemetry, started as this module loads (null when OTEL_EXPORTER_OTLP_ENDPOINT is unset).
 * main.ts imports it first: the instrumentations patch http, fastify, pg and ioredis as they
 * load, so nothing may load them before.
 */
export const tracing = startTracing('pixmill-worker');
