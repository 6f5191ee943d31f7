import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { WEBHOOK_EVENT_TYPES } from '@pixmill/events';

export class WebhookSecretDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'Signs messages sent to the webhookUrl of your jobs and uploads.' })
  secret: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'During the 24 h after a rotation, the previous secret; messages carry a signature by each.',
  })
  previousSecret: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the previous secret stops signing.' })
  previousExpiresAt: string | null;
}

export class CreateWebhookEndpointDto {
  @ApiProperty({ example: 'https://example.com/pixmill/webhooks', description: 'http(s); must not resolve to a private, loopback or link-local address.' })
  @IsString() @MaxLength(2048)
  url: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, example: ['job.succeeded', 'job.failed'] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length) @ArrayUnique() @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events: string[];

  @ApiPropertyOptional({ example: 'production receiver' })
  @IsOptional() @IsString() @MaxLength(200)
  description?: string;
}

/** Any of a new endpoint's fields (the same rules, each optional), plus `enabled`. */
export class UpdateWebhookEndpointDto extends PartialType(CreateWebhookEndpointDto) {
  @ApiPropertyOptional({ example: true, description: 'true turns an endpoint that answered 410 Gone back on; false stops deliveries to it.' })
  @IsOptional() @IsBoolean()
  enabled?: boolean;
}

export class WebhookEndpointDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'https://example.com/pixmill/webhooks' }) url: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, example: ['job.succeeded'] }) events: string[];
  @ApiProperty({ example: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', description: 'This endpoint’s own signing secret.' }) secret: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ description: 'False once the receiver answered 410 Gone; nothing is sent to it then.' }) enabled: boolean;
  @ApiProperty({ nullable: true, type: String, example: 'the receiver answered 410 Gone' }) disabledReason: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class WebhookEndpointListDto {
  @ApiProperty({ type: [WebhookEndpointDto] }) items: WebhookEndpointDto[];
}

export class WebhookAttemptDto {
  @ApiProperty({ format: 'date-time' }) attemptedAt: string;
  @ApiProperty({ nullable: true, type: Number, example: 500, description: 'Null when no HTTP answer came (timeout, refused connection).' })
  statusCode: number | null;
  @ApiProperty({ example: 42 }) durationMs: number;
  @ApiProperty({ nullable: true, type: String, example: 'timeout after 10000ms' }) error: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The first 1 KB of the receiver’s answer.' }) responseSnippet: string | null;
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'msg_2b7c9e0f4a1d4c3e8f6a5b4c3d2e1f00', description: 'The `webhook-id` header: the same on every attempt and redelivery.' })
  messageId: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES }) type: string;
  @ApiProperty({ enum: ['url', 'endpoint'], description: '`url`: the webhookUrl of a job or upload; `endpoint`: a registered endpoint.' })
  target: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) endpointId: string | null;
  @ApiProperty({ example: 'https://example.com/pixmill/webhooks' }) url: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) jobId: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) imageId: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: '5f0c6a2e-8b1d-4c7e-9a55-0d6f3b2e4a11',
    description: 'The id of the API request that caused the message (the `x-request-id` the API answered it with); every attempt sends it as `x-request-id`.',
  })
  requestId: string | null;
  @ApiProperty({ enum: ['pending', 'succeeded', 'failed', 'canceled'] }) status: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the next attempt is due (pending only).' })
  nextAttemptAt: string | null;
  @ApiProperty({ type: [WebhookAttemptDto] }) attempts: WebhookAttemptDto[];
  @ApiProperty({ type: Object, description: 'The message body as sent: `{type, timestamp, data}`.' }) payload: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finishedAt: string | null;
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto] }) items: WebhookDeliveryDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class ListWebhookDeliveriesQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() jobId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() endpointId?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) cursor?: string;
}
