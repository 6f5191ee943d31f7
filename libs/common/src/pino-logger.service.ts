import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/** Nest's logger backed by pino: one JSON line per entry, shared by the API and the worker. */
export class PinoLoggerService implements LoggerService {
  readonly pino: Logger;

  constructor(level: string, base: Record<string, unknown>) {
    this.pino = pino({ level, base: { ...base, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
  }

  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, message instanceof Error ? message.message : String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }
}
