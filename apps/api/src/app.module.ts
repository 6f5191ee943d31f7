import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@pixmill/config';
import { DbModule } from '@pixmill/db';
import { EventsModule } from '@pixmill/events';
import { JobsModule } from '@pixmill/jobs';
import { RedisModule } from '@pixmill/queue';
import { StorageModule } from '@pixmill/storage';
import { FilesModule } from './files/files.module';
import { ImagesModule } from './images/images.module';
import { MetricsModule } from './metrics/metrics.module';
import { TransformationsModule } from './transformations/transformations.module';
import { AccountModule } from './account/account.module';
import { AuthModule } from './auth/auth.module';
import { HealthModule } from './health/health.module';
import { OpsModule } from './ops/ops.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { PublicUrlsModule } from './public-urls/public-urls.module';
import { AdminModule } from './admin/admin.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot('pixmill-api'),
        RedisModule,
        StorageModule,
        EventsModule,
        JobsModule,
        HealthModule,
        MetricsModule,
        AuthModule,
        // After AuthModule: its JWT guard must have set request.user before the rate-limit guard runs.
        RateLimitModule,
        AccountModule,
        OpsModule,
        ImagesModule,
        TransformationsModule,
        FilesModule,
        WebhooksModule,
        PublicUrlsModule,
        AdminModule,
      ],
    };
  }
}
