import { Controller, Get, Headers, Param, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblemHeaders, ApiProblems } from '../common/api-problems.decorator';
import { locationHeader } from '../common/response-headers.openapi';
import { Public } from '../common/public.decorator';
import { ApiTransformQuery } from '../transformations/transform-query.openapi';
import { PublicImageService } from './public-image.service';

@ApiTags('public urls')
@Controller('i')
export class PublicImageController {
  constructor(private readonly publicImages: PublicImageService) {}

  @Get(':imageId')
  @Public()
  @ApiOperation({
    summary: 'A signed public image URL (for <img src>)',
    description:
      'No access token: the URL carries its own signature. Options are the query syntax of the on-the-fly route, plus `format=auto`, `dpr` and `exp`; ' +
      '`sig` must be the last parameter: base64url (no padding) of HMAC-SHA256, keyed with one of the owner’s keys (`/v1/url-keys`), over the request target as sent up to `&sig=` (or `?sig=`). ' +
      '302 to the derivative’s delivery URL (`Cache-Control: public, max-age` no longer than that URL stays valid); a missing derivative is rendered on the owner’s account (daily quota and PUBLIC_RENDERS_PER_MINUTE) and waited for up to 10 s (PUBLIC_RENDER_WAIT_SECONDS), else 503 `rendering` with `Retry-After`: ask again then (the render stays queued; asking again starts no second one). ' +
      'Answers with `format=auto` carry `Vary: Accept`.',
  })
  @ApiParam({ name: 'imageId', format: 'uuid' })
  @ApiTransformQuery()
  @ApiQuery({ name: 'preset', required: false, description: 'One of the owner’s presets: its operations run first, then the URL’s own; `format=auto` (besides the formats of the query syntax) picks AVIF if Accept has image/avif, else WebP for image/webp, else JPEG (PNG for images with an alpha channel).', schema: { type: 'string', pattern: '^[a-z0-9-]{1,64}$', example: 'thumb-square' } })
  @ApiQuery({ name: 'dpr', required: false, description: 'Device pixel ratio 1–4: multiplies resize and crop sizes (not beyond the input unless `withoutEnlargement` is false).', schema: { type: 'number', minimum: 1, maximum: 4 } })
  @ApiQuery({ name: 'exp', required: false, description: 'Unix seconds; later the URL answers 403 `url_expired`.', schema: { type: 'integer' } })
  @ApiQuery({ name: 'sig', required: true, description: 'The signature; the last parameter.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } })
  @ApiHeader({ name: 'Accept', required: false, description: 'Read with `format=auto`.' })
  @ApiResponse({ status: 302, description: '`Location` is the derivative’s delivery URL.', headers: locationHeader('The derivative’s delivery URL.') })
  @ApiProblemHeaders([503], {
    'Retry-After': { description: 'Seconds to wait before asking again.', schema: { type: 'integer' } },
  })
  @ApiProblems(
    'validation_failed',
    ['presets_only', 'the owner’s account takes only `preset=` (plus `format=auto`, `dpr`, `exp`) on public URLs'],
    ['signature_invalid', 'no signature, a signature none of the owner’s keys made, or an unknown image'],
    ['url_expired', '`exp` has passed'],
    ['spec_not_applicable', 'the spec cannot fit this image'],
    ['image_too_large', 'an output over the size limits'],
    ['daily_quota_exceeded', 'the owner’s daily quota is used up (new renders only)'],
    ['rate_limited', 'the owner’s PUBLIC_RENDERS_PER_MINUTE is used up (new renders only); see Retry-After'],
    ['rendering', 'not rendered within the wait (10 s by default); ask again after Retry-After'],
    ['unavailable', 'Redis does not answer'],
  )
  async image(
    @Param('imageId') imageId: string,
    @Headers('accept') accept: string | undefined,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const answer = await this.publicImages.resolve(imageId, req.url, accept, String(req.id));
    if (answer.varyAccept) void reply.header('vary', 'Accept');
    void reply
      .status(302)
      .header('location', answer.location)
      .header('cache-control', answer.maxAgeSeconds > 0 ? `public, max-age=${answer.maxAgeSeconds}` : 'no-store')
      .send();
  }
}
