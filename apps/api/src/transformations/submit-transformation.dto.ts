import { ApiPropertyOptional } from '@nestjs/swagger';
import { TransformationSpecDto } from '@pixmill/imaging';

/** The body of POST /v1/images/{id}/transformations, for OpenAPI (validation is parseSpec plus the webhook URL check). */
export class SubmitTransformationDto extends TransformationSpecDto {
  @ApiPropertyOptional({
    format: 'uri',
    example: 'https://example.com/hooks/pixmill',
    description:
      'Receives `job.succeeded` or `job.failed` for this job, signed with your account secret (GET /v1/webhook-secret). SSRF-checked: http(s), no private, loopback or link-local addresses; 400 otherwise.',
  })
  webhookUrl?: string;
}
