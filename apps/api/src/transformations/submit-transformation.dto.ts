import { ApiPropertyOptional } from '@nestjs/swagger';
import { Operation, OutputSpec } from '@pixmill/imaging';
import { PRESET_PROPERTY, SPEC_PROPERTIES } from './transformation-spec.openapi';

/**
 * The body of POST /v1/images/{id}/transformations, for OpenAPI: a spec (the same
 * `operations` and `output` as TransformationSpecDto) plus `webhookUrl`.
 * Validation is parseSpec plus the webhook URL check.
 */
export class SubmitTransformationDto {
  @ApiPropertyOptional(SPEC_PROPERTIES.operations)
  operations?: Operation[];

  @ApiPropertyOptional(SPEC_PROPERTIES.output)
  output?: OutputSpec;

  @ApiPropertyOptional({
    format: 'uri',
    example: 'https://example.com/hooks/pixmill',
    description:
      'Receives `job.succeeded` or `job.failed` for this job, signed with your account secret (GET /v1/webhook-secret). SSRF-checked: http(s), no private, loopback or link-local addresses; 400 otherwise.',
  })
  webhookUrl?: string;

  @ApiPropertyOptional(PRESET_PROPERTY)
  preset?: string;
}
