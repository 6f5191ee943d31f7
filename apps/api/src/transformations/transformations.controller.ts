import { Body, Controller, Get, Headers, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainException, isErrorCode, ValidationFailedException } from '@pixmill/common';
import { DeliveryUrlService } from '@pixmill/storage';
import { ApiProblemHeaders, ApiProblems } from '../common/api-problems.decorator';
import { locationHeader, RETRY_AFTER_HEADER } from '../common/response-headers.openapi';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { VerifiedEmailRequired } from '../common/verified-email.decorator';
import { JobDto } from '../jobs/job.dto';
import { JobsService } from '../jobs/jobs.service';
import { SubmitTransformationDto } from './submit-transformation.dto';
import { ApiTransformQuery } from './transform-query.openapi';
import { DEFAULT_TRANSFORM_WAIT_SECONDS, MAX_TRANSFORM_WAIT_SECONDS } from './transformation.limits';
import { SPEC_EXAMPLE } from './transformation-spec.openapi';
import { TransformationsService } from './transformations.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const JOB_LOCATION = locationHeader('The job: /v1/jobs/{id}.');

@ApiTags('transformations')
@ApiBearerAuth()
@VerifiedEmailRequired()
@RequiresScope('transformations')
@Controller('v1/images/:id')
export class TransformationsController {
  constructor(
    private readonly transformations: TransformationsService,
    private readonly jobs: JobsService,
    private readonly delivery: DeliveryUrlService,
  ) {}

  @Post('transformations')
  @ApiOperation({
    summary: 'Request a transformation',
    description:
      'Body: a spec (SPEC §4), plus an optional `webhookUrl` that receives `job.succeeded` or `job.failed` signed with your account secret (see /v1/webhook-secret). 202 with `Location: /v1/jobs/{id}` when a render was queued (or is already in flight for the same spec: the request joins it, and its `webhookUrl` is told too, up to 10 distinct URLs per render); 200 with a succeeded job and `cached: true` when the derivative already exists. `Idempotency-Key` replays the first answer; reused with another spec → 409.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The image' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Up to 255 printable ASCII characters.' })
  @ApiBody({
    type: SubmitTransformationDto,
    examples: {
      chain: { summary: 'Resize, rotate, watermark; WebP', value: SPEC_EXAMPLE },
      smartCrop: {
        summary: 'Smart square crop, compressed AVIF, with a webhook',
        value: {
          operations: [{ op: 'crop', width: 1024, height: 1024, gravity: 'attention' }],
          output: { format: 'avif', quality: 60, compress: true },
          webhookUrl: 'https://example.com/hooks/pixmill',
        },
      },
      reencode: { summary: 'No operations: re-encode only', value: { output: { format: 'jpeg', quality: 85, progressive: true } } },
    },
  })
  @ApiResponse({ status: 202, type: JobDto, description: 'Queued (or already in flight).', headers: { ...JOB_LOCATION, ...RETRY_AFTER_HEADER } })
  @ApiResponse({ status: 200, type: JobDto, description: 'The derivative exists: a succeeded job with `cached: true`.', headers: JOB_LOCATION })
  @ApiProblems(
    'validation_failed',
    'unauthorized',
    'not_found',
    'idempotency_conflict',
    ['spec_not_applicable', 'a valid spec that cannot fit this image (a crop region outside it); no job is made'],
    ['image_too_large', 'an output over the size limits; no job is made'],
    'daily_quota_exceeded',
  )
  async submit(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ValidationFailedException([{ field: 'Idempotency-Key', message: 'must be 1–255 printable ASCII characters' }]);
    }
    const { spec, webhookUrl } = await this.transformations.parseBody(body, user.id);
    const { job } = await this.transformations.submit(user.id, id, spec, { idempotencyKey, requestId: String(req.id), webhookUrl });
    const final = JobsService.isFinal(job);
    void reply.status(job.status === 'succeeded' ? 200 : 202).header('location', `/v1/jobs/${job.id}`);
    if (!final) void reply.header('retry-after', '1');
    return this.jobs.toDto(job);
  }

  @Get('transform')
  @ApiOperation({
    summary: 'On-the-fly transformation by query string',
    description:
      'The query syntax of the transformation spec: each operation key adds an operation, in query order (keys may repeat), ' +
      'e.g. `?resize=300x200&fit=cover&rotate=90&format=webp`; the same rules and ranges as the JSON spec (TransformationSpecDto) apply. ' +
      `302 to the derivative’s delivery URL when it exists or is rendered within \`wait\` seconds (default ${DEFAULT_TRANSFORM_WAIT_SECONDS}, max ${MAX_TRANSFORM_WAIT_SECONDS}); otherwise 202 with the job.`,
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The image' })
  @ApiTransformQuery()
  @ApiQuery({ name: 'preset', required: false, description: 'One of your presets (/v1/presets): its operations run first, then the query’s own; its output applies unless the query sets one.', schema: { type: 'string', pattern: '^[a-z0-9-]{1,64}$', example: 'thumb-square' } })
  @ApiResponse({ status: 302, description: '`Location` is the derivative’s delivery URL.', headers: locationHeader('The derivative’s delivery URL.') })
  @ApiResponse({ status: 202, type: JobDto, description: 'Still rendering after `wait` seconds; poll `Location`.', headers: { ...JOB_LOCATION, ...RETRY_AFTER_HEADER } })
  // Above @ApiProblems: decorators apply bottom-up, and this one adds to the responses it made.
  @ApiProblemHeaders([409, 415, 422, 500], { Location: { description: 'The job that ended this way: /v1/jobs/{id}.', schema: { type: 'string' } } })
  @ApiProblems(
    'validation_failed',
    'unauthorized',
    'not_found',
    ['job_canceled', 'the render was canceled before it ran; `Location` names the job'],
    ['unsupported_media_type', 'the stored image uses a codec that cannot be decoded here; `Location` names the job'],
    ['image_corrupt', 'the stored image could not be decoded; `Location` names the job'],
    ['image_too_large', 'the image or an output is over the size limits; `Location` names the job'],
    ['spec_not_applicable', 'the spec cannot fit this image; `Location` names the job'],
    'daily_quota_exceeded',
    ['internal_error', 'the render failed after its retries; `Location` names the job'],
  )
  async transform(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const params = new URLSearchParams(req.url.split('?')[1] ?? '');
    const waitRaw = params.get('wait');
    const wait = waitRaw === null ? DEFAULT_TRANSFORM_WAIT_SECONDS : Number(waitRaw);
    if (!Number.isInteger(wait) || wait < 0 || wait > MAX_TRANSFORM_WAIT_SECONDS) {
      throw new ValidationFailedException([{ field: 'wait', message: `wait must be an integer from 0 to ${MAX_TRANSFORM_WAIT_SECONDS}` }]);
    }
    const { spec, webhookUrl } = await this.transformations.parseQuery(params, user.id);
    // Rendered already: straight to it, without writing a job (on-the-fly URLs are hit often),
    // unless a webhookUrl asks to be told: then the cache hit is a job, as on POST.
    const existing = webhookUrl ? null : await this.transformations.existingDerivative(user.id, id, spec);
    if (existing) {
      void reply.status(302).header('location', await this.delivery.urlFor(existing.storageKey)).header('cache-control', 'private, no-store').send();
      return;
    }
    const { job } = await this.transformations.submit(user.id, id, spec, { requestId: String(req.id), webhookUrl });
    const settled = await this.jobs.waitForFinal(job, wait);
    const dto = await this.jobs.toDto(settled);
    if (dto.result) {
      void reply.status(302).header('location', dto.result.url).header('cache-control', 'private, no-store').send();
      return;
    }
    // A render that ended without an image is an error like any other (problem+json), naming the job.
    const location = { location: `/v1/jobs/${job.id}` };
    if (settled.status === 'failed') {
      // The code's own status, as where the failure happened: the input or spec (4xx), or the service after its retries (500).
      const code = isErrorCode(settled.errorCode) ? settled.errorCode : 'internal_error';
      throw new DomainException(code, settled.errorMessage ?? 'The render failed.', undefined, location);
    }
    if (settled.status === 'canceled') {
      throw new DomainException('job_canceled', 'The render was canceled before it ran; request it again to render it.', undefined, location);
    }
    void reply.status(202).header('retry-after', '1').header('location', location.location).send(dto);
  }
}
