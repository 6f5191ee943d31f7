export * from './job-lifecycle.service';
export * from './job-engine.metrics';
export * from './job-final.watcher';
export * from './job-not-cancelable.exception';
export * from './utc-day.util';
export * from './jobs.module';
