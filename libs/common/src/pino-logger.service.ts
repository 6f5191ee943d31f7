import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { traceLogFields } from '@pixmill/tracing';

/**
 * A structured entry for Nest's Logger: `logger.log({ msg: 'transform succeeded', jobId, durationMs })`
 * becomes one JSON line with those fields next to `msg`.
 */
export type LogFields = { msg: string } & Record<string, unknown>;

function isLogFields(message: unknown): message is LogFields {
  return typeof message === 'object' && message !== null && !(message instanceof Error) && typeof (message as LogFields).msg === 'string';
}

/** Nest's logger backed by pino: one JSON line per entry, shared by the API and the worker. */
export class PinoLoggerService implements LoggerService {
  readonly pino: Logger;

  /**
   * `sync`: write each line to stdout before returning, instead of pino's default (asynchronous,
   * through the libuv threadpool, flushed on a normal exit).
   */
  constructor(level: string, base: Record<string, unknown>, { sync = false }: { sync?: boolean } = {}) {
    const options = {
      level,
      base: { ...base, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // `traceId` and `spanId` on every line written inside a trace (tracing on: OTEL_EXPORTER_OTLP_ENDPOINT).
      mixin: traceLogFields,
    };
    this.pino = sync ? pino(options, pino.destination({ dest: 1, sync: true })) : pino(options);
  }

  log(message: unknown, context?: string): void {
    this.pino.info(...entry(message, { context }));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error(...entry(message, { context, trace }));
  }
  warn(message: unknown, context?: string): void {
    this.pino.warn(...entry(message, { context }));
  }
  debug(message: unknown, context?: string): void {
    this.pino.debug(...entry(message, { context }));
  }
  verbose(message: unknown, context?: string): void {
    this.pino.trace(...entry(message, { context }));
  }
}

function entry(message: unknown, base: Record<string, unknown>): [Record<string, unknown>, string] {
  if (isLogFields(message)) {
    const { msg, ...fields } = message;
    return [{ ...base, ...fields }, msg];
  }
  return [base, message instanceof Error ? message.message : String(message)];
}
