import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfig, ConfigModule } from '@pixmill/config';
import { DbModule } from '@pixmill/db';
import { EventsModule } from '@pixmill/events';
import { HealthService } from '@pixmill/health';
import { ImagingService } from '@pixmill/imaging';
import { JobsModule } from '@pixmill/jobs';
import { RedisModule } from '@pixmill/queue';
import { StorageModule } from '@pixmill/storage';
import { PingProcessor } from './processors/ping.processor';
import { StorageCleanupProcessor } from './processors/storage-cleanup.processor';
import { ThumbnailProcessor } from './processors/thumbnail.processor';
import { TransformProcessor } from './processors/transform.processor';
import { WebhookDeliveryProcessor } from './processors/webhook-delivery.processor';
import { ReconcilerService } from './reconciler.service';
import { WorkerHost } from './worker-host.service';
import { WebhookInFlightLimiter } from './webhook-in-flight.limiter';
import { WorkerHttpServer } from './worker-http.server';
import { WorkerMetrics } from './worker-metrics.service';

@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), DbModule.forRoot('pixmill-worker'), RedisModule, StorageModule, EventsModule, JobsModule, DiscoveryModule],
      providers: [
        WorkerMetrics,
        WorkerHost,
        WorkerHttpServer,
        HealthService,
        ImagingService,
        PingProcessor,
        ThumbnailProcessor,
        StorageCleanupProcessor,
        TransformProcessor,
        WebhookDeliveryProcessor,
        WebhookInFlightLimiter,
        ReconcilerService,
      ],
    };
  }
}
