export * from './trace-context.util';
export * from './tracing.bootstrap';
