export * from './error-codes';
export * from './domain.exception';
export * from './errors';
export * from './pino-logger.service';
export * from './graceful-shutdown.util';
export * from './dependency-failure.util';
