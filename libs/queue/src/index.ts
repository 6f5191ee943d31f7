export * from './queue-names';
export * from './job-contracts';
export * from './redis-connection.factory';
export * from './job-queue.service';
export * from './job-dispatcher.service';
export * from './redis.module';
export * from './webhook-retry.util';
