import { Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiProblems } from '../common/api-problems.decorator';
import { VerifiedEmailRequired } from '../common/verified-email.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { ListWebhookDeliveriesQueryDto, WebhookDeliveryDto, WebhookDeliveryPageDto } from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('webhooks')
@ApiBearerAuth()
@VerifiedEmailRequired()
@RequiresScope('webhooks')
@Controller('v1/webhook-deliveries')
export class WebhookDeliveriesController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @ApiOperation({
    summary: 'Webhook deliveries, newest first, with every attempt',
    description: 'One delivery per (message, target). Filter by `jobId` or `endpointId`; cursor pagination.',
  })
  @ApiResponse({ status: 200, type: WebhookDeliveryPageDto })
  @ApiProblems('validation_failed', 'unauthorized')
  list(@CurrentUser() user: AuthUser, @Query() q: ListWebhookDeliveriesQueryDto): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.listDeliveries(user.id, q);
  }

  @Post(':id/redeliver')
  @ApiOperation({
    summary: 'Send a delivery’s message again',
    description: 'A new delivery of the same message (same `webhook-id`, so receivers can dedupe) to the same target, with a fresh retry schedule.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 202, type: WebhookDeliveryDto })
  @ApiProblems('unauthorized', 'not_found', ['webhook_endpoint_disabled', 'the endpoint is disabled or deleted'])
  async redeliver(@CurrentUser() user: AuthUser, @Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookDeliveryDto> {
    const delivery = await this.webhooks.redeliver(user.id, id);
    void reply.status(202);
    return delivery;
  }
}
