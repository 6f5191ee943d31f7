import { Body, Controller, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { VerifiedEmailRequired } from '../common/verified-email.decorator';
import { CreateUploadDto, DirectUploadDto } from './dto/direct-upload.dto';
import { ImageDto } from './dto/image.dto';
import { DirectUploadService } from './direct-upload.service';
import { ImagesService } from './images.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('images')
@ApiBearerAuth()
@VerifiedEmailRequired()
@RequiresScope('images:write')
@Controller('v1/uploads')
export class UploadsController {
  constructor(
    private readonly direct: DirectUploadService,
    private readonly images: ImagesService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Start a presigned direct upload',
    description:
      'Returns a presigned POST (S3 policy limited to the declared size and Content-Type, 15 minutes). Storage quota is reserved now. Needs STORAGE_DRIVER=s3; the local driver answers 400 `unsupported_operation`.',
  })
  @ApiResponse({ status: 201, type: DirectUploadDto })
  @ApiProblems(
    'validation_failed',
    ['unsupported_operation', 'direct uploads are unavailable with local storage'],
    'unauthorized',
    'storage_quota_exceeded',
    'file_too_large',
  )
  create(@CurrentUser() user: AuthUser, @Body() body: CreateUploadDto): Promise<DirectUploadDto> {
    return this.direct.create(user.id, body);
  }

  @Post(':uploadId/complete')
  @ApiOperation({ summary: 'Finish a direct upload', description: 'Validates the uploaded object like a multipart upload; a rejected object is deleted.' })
  @ApiParam({ name: 'uploadId', format: 'uuid' })
  @ApiResponse({ status: 201, type: ImageDto })
  @ApiProblems(
    'validation_failed',
    'unauthorized',
    'not_found',
    'file_too_large',
    'unsupported_media_type',
    'image_corrupt',
    'image_too_large',
    'unavailable',
  )
  async complete(@CurrentUser() user: AuthUser, @Param('uploadId') uploadId: string, @Req() req: FastifyRequest): Promise<ImageDto> {
    const { image, eagerJobs } = await this.direct.complete(user.id, uploadId, String(req.id));
    return { ...(await this.images.toDto(image)), ...(eagerJobs ? { eagerJobs } : {}) };
  }
}
