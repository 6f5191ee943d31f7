import { Global, Module } from '@nestjs/common';
import { ImageViewBuilder } from './image-view.builder';
import { JobViewBuilder } from './job-view.builder';
import { WebhookOutbox } from './webhook-outbox.service';

/**
 * What clients see of jobs and images, and the state changes reported to them by
 * webhook. Needs DbModule, RedisModule (JobQueue) and StorageModule.
 */
@Global()
@Module({
  providers: [JobViewBuilder, ImageViewBuilder, WebhookOutbox],
  exports: [JobViewBuilder, ImageViewBuilder, WebhookOutbox],
})
export class EventsModule {}
