import { Global, Module } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { AppConfig } from '@pixmill/config';
import { DeliveryUrlService } from './delivery-url.service';
import { LocalStorageDriver } from './local-storage.driver';
import { S3StorageDriver } from './s3-storage.driver';
import { StorageDriver } from './storage.driver';

/** The secret of local file URLs, derived from JWT_SECRET so there is one secret to manage. */
export function localFilesSecret(config: AppConfig): string {
  return createHmac('sha256', config.jwt.secret).update('pixmill:local-files').digest('hex');
}

export function createStorageDriver(config: AppConfig): StorageDriver {
  if (config.storage.driver === 's3') {
    const s3 = config.storage.s3;
    return new S3StorageDriver({
      bucket: s3.bucket!,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: s3.forcePathStyle,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      serverSideEncryption: s3.serverSideEncryption,
      // One part in flight per upload: memory per upload stays at one 5 MiB part.
      queueSize: 1,
    });
  }
  return new LocalStorageDriver({ dir: config.storage.localDir });
}

/** The configured StorageDriver and the DeliveryUrlService, for the API and the worker. */
@Global()
@Module({
  providers: [
    { provide: StorageDriver, inject: [AppConfig], useFactory: createStorageDriver },
    {
      provide: DeliveryUrlService,
      inject: [StorageDriver, AppConfig],
      useFactory: (driver: StorageDriver, config: AppConfig) =>
        new DeliveryUrlService(driver, {
          cdnBaseUrl: config.storage.cdnBaseUrl,
          cloudfrontKeyPairId: config.storage.cloudfront?.keyPairId,
          cloudfrontPrivateKey: config.storage.cloudfront?.privateKey,
          defaultTtlSeconds: config.storage.deliveryUrlTtlSeconds,
          publicBaseUrl: config.http.publicBaseUrl,
          signingSecret: localFilesSecret(config),
        }),
    },
  ],
  exports: [StorageDriver, DeliveryUrlService],
})
export class StorageModule {}
