export * from './queue-names';
export * from './job-contracts';
export * from './redis-connection.factory';
export * from './job-queue.service';
export * from './fair-priority.util';
export * from './redis.module';
export * from './webhook-retry.util';
