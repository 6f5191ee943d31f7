import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '@pixmill/config';
import { ReadCache } from './cache/read-cache.service';
import { createDataSource } from './data-source.factory';
import { RefreshTokenRepository } from './repositories/refresh-token.repository';
import { UserRepository } from './repositories/user.repository';
import { JobRepository } from './repositories/job.repository';
import { DerivativeRepository } from './repositories/derivative.repository';
import { ImageRepository } from './repositories/image.repository';
import { UploadRepository } from './repositories/upload.repository';
import { StorageCleanupRepository } from './repositories/storage-cleanup.repository';
import { WebhookDeliveryRepository } from './repositories/webhook-delivery.repository';
import { WebhookEndpointRepository } from './repositories/webhook-endpoint.repository';
import { UrlKeyRepository } from './repositories/url-key.repository';
import { PresetRepository } from './repositories/preset.repository';
import { AccountTokenRepository } from './repositories/account-token.repository';
import { ApiKeyRepository } from './repositories/api-key.repository';

const REPOSITORIES = [UserRepository, RefreshTokenRepository, ImageRepository, UploadRepository, StorageCleanupRepository, JobRepository, DerivativeRepository,
  WebhookEndpointRepository, WebhookDeliveryRepository, UrlKeyRepository, PresetRepository, AccountTokenRepository, ApiKeyRepository];

/** One pooled DataSource per process and the repositories built on it. */
@Global()
@Module({})
export class DbModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  static forRoot(applicationName: string): DynamicModule {
    return {
      module: DbModule,
      providers: [
        {
          provide: DataSource,
          inject: [AppConfig],
          useFactory: async (config: AppConfig) => {
            const ds = createDataSource({ url: config.database.url, poolSize: config.database.poolSize, applicationName });
            return ds.initialize();
          },
        },
        ReadCache,
        ...REPOSITORIES,
      ],
      exports: [DataSource, ReadCache, ...REPOSITORIES],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
