import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblems } from '../common/api-problems.decorator';
import { locationHeader } from '../common/response-headers.openapi';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { VerifiedEmailRequired } from '../common/verified-email.decorator';
import { DerivativeListDto, ImageDto, ImagePageDto, ListImagesQueryDto, UploadImageBodyDto } from './dto/image.dto';
import { ImageUploadService } from './image-upload.service';
import { ImagesService } from './images.service';
import { TransformationsService } from '../transformations/transformations.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('images')
@ApiBearerAuth()
@RequiresScope('images:read')
@Controller('v1/images')
export class ImagesController {
  constructor(
    private readonly images: ImagesService,
    private readonly uploads: ImageUploadService,
    private readonly transformations: TransformationsService,
  ) {}

  @RequiresScope('images:write')
  @VerifiedEmailRequired()
  @Post()
  @ApiOperation({
    summary: 'Upload an image (multipart, streamed)',
    description:
      'The file is streamed to storage as it arrives. Its type is decided by magic bytes (JPEG, PNG, GIF, WebP, AVIF, HEIC, TIFF), its header is probed for pixel and frame limits, and it is fully decoded once (a HEIC is not: its HEIF boxes are checked instead, item data inside the file and the HEVC configuration present). Rejected uploads leave nothing behind. A 256 px WebP thumbnail is rendered by a worker and appears in `urls.thumbnail`.',
  })
  @ApiConsumes('multipart/form-data')
  // eager is one JSON part (OpenAPI's default for an array of objects in a form, said outright).
  @ApiBody({ type: UploadImageBodyDto, encoding: { eager: { contentType: 'application/json' } } })
  @ApiResponse({ status: 201, type: ImageDto, headers: locationHeader('The new image: /v1/images/{id}.') })
  @ApiProblems(
    'validation_failed',
    'unauthorized',
    'storage_quota_exceeded',
    'file_too_large',
    'unsupported_media_type',
    'image_corrupt',
    'image_too_large',
    'unavailable',
  )
  async upload(@CurrentUser() user: AuthUser, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<ImageDto> {
    const { image, eager, webhookUrl } = await this.uploads.fromMultipart(user.id, req);
    // Eager renders are queued once the image row exists (validated before it was accepted); eager jobs report to the upload's webhookUrl too.
    const eagerJobs = await this.transformations.submitEager(user.id, image.id, eager, { requestId: String(req.id), webhookUrl });
    void reply.status(201).header('location', `/v1/images/${image.id}`);
    return { ...(await this.images.toDto(image)), ...(eager.length ? { eagerJobs } : {}) };
  }

  @Get()
  @ApiOperation({ summary: 'List your images, newest first', description: 'Cursor pagination (`cursor`), or `page` for offset pages.' })
  @ApiResponse({ status: 200, type: ImagePageDto })
  @ApiProblems('validation_failed', 'unauthorized')
  list(@CurrentUser() user: AuthUser, @Query() q: ListImagesQueryDto): Promise<ImagePageDto> {
    return this.images.list(user.id, q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One image' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: ImageDto })
  @ApiProblems('unauthorized', 'not_found')
  async get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<ImageDto> {
    return this.images.toDto(await this.images.getOwned(user.id, id));
  }

  @Get(':id/original')
  @ApiOperation({ summary: 'Redirect to the original’s delivery URL' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 302, description: '`Location` is a signed, expiring delivery URL.', headers: locationHeader('The original’s signed, expiring delivery URL.') })
  @ApiProblems('unauthorized', 'not_found')
  async original(@CurrentUser() user: AuthUser, @Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const dto = await this.images.toDto(await this.images.getOwned(user.id, id));
    void reply.status(302).header('location', dto.urls.original).header('cache-control', 'private, no-store').send();
  }

  @Get(':id/derivatives')
  @ApiOperation({ summary: 'Derivatives rendered so far' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: DerivativeListDto })
  @ApiProblems('unauthorized', 'not_found')
  async derivatives(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<DerivativeListDto> {
    return { items: await this.images.derivatives(user.id, id) };
  }

  @RequiresScope('images:write')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an image', description: 'Rows go now; the original and every derivative are removed from storage by a retried cleanup job.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 204, description: 'Deleted.' })
  @ApiProblems('unauthorized', 'not_found')
  async delete(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() req: FastifyRequest): Promise<void> {
    await this.images.delete(user.id, id, String(req.id));
  }
}
