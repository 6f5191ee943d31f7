import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiProblems } from '../common/api-problems.decorator';
import { locationHeader } from '../common/response-headers.openapi';
import { VerifiedEmailRequired } from '../common/verified-email.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { CreateWebhookEndpointDto, UpdateWebhookEndpointDto, WebhookEndpointDto, WebhookEndpointListDto } from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('webhooks')
@ApiBearerAuth()
@VerifiedEmailRequired()
@RequiresScope('webhooks')
@Controller('v1/webhook-endpoints')
export class WebhookEndpointsController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Register a webhook endpoint',
    description:
      'Receives every event of yours in `events`, signed with the endpoint’s own secret. The URL must be http(s) and must not resolve to a loopback, private, link-local, CGNAT, multicast or cloud-metadata address (SSRF guard); redirects are not followed.',
  })
  @ApiResponse({ status: 201, type: WebhookEndpointDto, headers: locationHeader('The new endpoint: /v1/webhook-endpoints/{id}.') })
  @ApiProblems('validation_failed', 'unauthorized')
  async create(@CurrentUser() user: AuthUser, @Body() body: CreateWebhookEndpointDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookEndpointDto> {
    const endpoint = await this.webhooks.createEndpoint(user.id, body);
    void reply.status(201).header('location', `/v1/webhook-endpoints/${endpoint.id}`);
    return endpoint;
  }

  @Get()
  @ApiOperation({ summary: 'Your webhook endpoints' })
  @ApiResponse({ status: 200, type: WebhookEndpointListDto })
  @ApiProblems('unauthorized')
  async list(@CurrentUser() user: AuthUser): Promise<WebhookEndpointListDto> {
    return { items: await this.webhooks.listEndpoints(user.id) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook endpoint' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: WebhookEndpointDto })
  @ApiProblems('unauthorized', 'not_found')
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<WebhookEndpointDto> {
    return this.webhooks.getEndpoint(user.id, id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change a webhook endpoint',
    description:
      'Any of `url` (SSRF-checked like a new one), `events`, `description` and `enabled`. `enabled: true` turns an endpoint that answered 410 Gone back on; its secret is kept.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: WebhookEndpointDto })
  @ApiProblems('validation_failed', 'unauthorized', 'not_found')
  update(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: UpdateWebhookEndpointDto): Promise<WebhookEndpointDto> {
    return this.webhooks.updateEndpoint(user.id, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook endpoint', description: 'Nothing more is sent to it; its delivery log stays.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 204, description: 'Deleted.' })
  @ApiProblems('unauthorized', 'not_found')
  async delete(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.webhooks.deleteEndpoint(user.id, id);
  }
}
