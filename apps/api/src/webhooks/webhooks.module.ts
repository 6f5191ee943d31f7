import { Module } from '@nestjs/common';
import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookEndpointsController } from './webhook-endpoints.controller';
import { WebhookSecretController } from './webhook-secret.controller';
import { WebhookUrlPolicy } from './webhook-url.policy';
import { WebhooksService } from './webhooks.service';

@Module({
  controllers: [WebhookSecretController, WebhookEndpointsController, WebhookDeliveriesController],
  providers: [WebhooksService, WebhookUrlPolicy],
  exports: [WebhookUrlPolicy],
})
export class WebhooksModule {}
