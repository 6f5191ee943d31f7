import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { VerifiedEmailRequired } from '../common/verified-email.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { WebhookSecretDto } from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('webhooks')
@ApiBearerAuth()
@VerifiedEmailRequired()
@RequiresScope('webhooks')
@Controller('v1/webhook-secret')
export class WebhookSecretController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @ApiOperation({
    summary: 'Your account’s webhook secret',
    description: 'Signs messages sent to the `webhookUrl` of your jobs and uploads (Standard Webhooks, `whsec_…`). Created on first use.',
  })
  @ApiResponse({ status: 200, type: WebhookSecretDto })
  @ApiProblems('unauthorized')
  get(@CurrentUser() user: AuthUser): Promise<WebhookSecretDto> {
    return this.webhooks.secret(user.id);
  }

  @Post('rotate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the account’s webhook secret',
    description: 'A new secret signs from now on; for 24 h the previous one signs too, so every message carries two `v1,` signatures while receivers switch.',
  })
  @ApiResponse({ status: 200, type: WebhookSecretDto })
  @ApiProblems('unauthorized')
  rotate(@CurrentUser() user: AuthUser): Promise<WebhookSecretDto> {
    return this.webhooks.rotateSecret(user.id);
  }
}
