import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type IORedis from 'ioredis';
import { AppConfig } from '@pixmill/config';
import { JobQueue } from './job-queue.service';
import { createRedisConnection } from './redis-connection.factory';

/** Injection token for the general-purpose Redis client (health, rate limits, caches). */
export const REDIS = Symbol('REDIS');

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createRedisConnection(config.redis.url, 'client', 'client'),
    },
    JobQueue,
  ],
  exports: [REDIS, JobQueue],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: IORedis) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
