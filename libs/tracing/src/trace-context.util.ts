import { Attributes, context, isSpanContextValid, propagation, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * Pixmill's own spans (render, storage put, webhook delivery, job runs). These helpers use
 * @opentelemetry/api only: without the SDK (tracing off) its tracer is a no-op and
 * nothing here records or allocates more than an empty span object.
 */
const tracer = () => trace.getTracer('pixmill');

/** The W3C trace context a job or a webhook carries: `traceparent` and, when set, `tracestate`. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** The context of the active span as W3C headers, or {} outside a trace (tracing off, or no span active). */
export function currentTraceHeaders(): TraceCarrier {
  const span = trace.getActiveSpan();
  if (!span || !isSpanContextValid(span.spanContext())) return {};
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** `traceId` and `spanId` of the active span, for log lines; {} outside a trace. */
export function traceLogFields(): { traceId?: string; spanId?: string } {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && isSpanContextValid(ctx) ? { traceId: ctx.traceId, spanId: ctx.spanId } : {};
}

/**
 * True inside a trace: tracing is on and a span is active, recorded or sampled out (its
 * context still travels, so the work it causes follows the same sampling decision).
 */
export function inTrace(): boolean {
  const ctx = trace.getActiveSpan()?.spanContext();
  return !!ctx && isSpanContextValid(ctx);
}

/** Adds attributes to the active span (a no-op outside a trace). */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /**
   * Start the span as a child of this remote context (a job's `traceparent`) instead of the
   * active span. With no traceparent the span starts a trace of its own.
   */
  remoteParent?: TraceCarrier | null;
  /** A throw that is not a failure (a job put back in its queue for later): the span ends without an error. */
  notAnError?: (err: unknown) => boolean;
}

/**
 * Runs `fn` in a new active span that ends when `fn` settles; a throw is recorded on the span
 * (status ERROR) and rethrown.
 */
export function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.remoteParent !== undefined ? propagation.extract(ROOT_CONTEXT, options.remoteParent ?? {}) : context.active();
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      if (options.notAnError?.(err)) throw err;
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { SpanKind, SpanStatusCode };
