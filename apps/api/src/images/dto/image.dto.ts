import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { INPUT_FORMATS, TransformationSpec } from '@pixmill/imaging';
import { EAGER_PROPERTY } from '../../transformations/transformation-spec.openapi';

export class EagerJobErrorDto {
  @ApiProperty({ example: 'daily_quota_exceeded' }) code: string;
  @ApiProperty() message: string;
}

export class EagerJobDto {
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'Poll /v1/jobs/{jobId}.' }) jobId: string | null;
  @ApiProperty({ type: EagerJobErrorDto, nullable: true, description: 'Why this render was not queued; the image is kept.' })
  error: EagerJobErrorDto | null;
}

export class ImageUrlsDto {
  @ApiProperty({ description: 'Signed, expiring delivery URL of the original (CDN, S3 presigned, or the local file route).' })
  original: string;
  @ApiProperty({ nullable: true, type: String, description: '256 px WebP; null until the worker has rendered it.' })
  thumbnail: string | null;
}

export class ImagePlaceholderDto {
  @ApiProperty({
    example: '1QcSHQRnh493V4dIh4eXh1h4kJUI',
    description: 'ThumbHash (base64): a blurred preview with alpha and the aspect ratio; as a `data:` URL for `<img src>`: `thumbHashDataUrl` of `@pixmill/sdk` (thumbhash’s `thumbHashToDataURL`).',
  })
  thumbhash: string;
  @ApiProperty({ example: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj', description: 'BlurHash: 4 × 3 components (3 × 4 for a portrait image).' })
  blurhash: string;
  @ApiProperty({ example: '#4a6c8f', description: 'The most common colour, `#rrggbb`: a flat background while the image loads.' })
  dominantColor: string;
}

export class ImageDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'beach.jpg' }) filename: string;
  @ApiProperty({ enum: INPUT_FORMATS, example: 'jpeg', description: '`svg` only where ALLOW_SVG=true.' }) format: string;
  @ApiProperty({ example: 'image/jpeg' }) mimeType: string;
  @ApiProperty({ example: 4000, description: 'After EXIF orientation.' }) width: number;
  @ApiProperty({ example: 3000 }) height: number;
  @ApiProperty({ example: 2481733 }) bytes: number;
  @ApiProperty({ example: 1, description: 'Frames of an animated GIF/WebP; 1 otherwise.' }) pages: number;
  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' }) sha256: string;
  @ApiProperty({
    nullable: true,
    type: Object,
    example: { Make: 'Canon', Model: 'EOS R6', DateTimeOriginal: '2024:06:01 10:20:30', gps: { latitude: 48.85, longitude: 2.35 } },
    description: 'Selected EXIF fields. `gps` is shown to the owner only and never copied into derivatives.',
  })
  exif: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: ImageUrlsDto }) urls: ImageUrlsDto;
  @ApiProperty({
    type: ImagePlaceholderDto,
    nullable: true,
    description: 'Computed with the thumbnail; null until the worker has rendered it. Also in `image.ready`.',
  })
  placeholder: ImagePlaceholderDto | null;
  @ApiPropertyOptional({ type: () => [EagerJobDto], description: 'Upload answers only: one entry per `eager` spec, in order.' })
  eagerJobs?: EagerJobDto[];
}

export class ImagePageDto {
  @ApiProperty({ type: [ImageDto] }) items: ImageDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last page.' })
  nextCursor: string | null;
}

export class ListImagesQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from a previous page’s `nextCursor`.' })
  @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, description: '1-based page number (offset pagination), when no cursor is given.' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100000)
  page?: number;
}

export class UploadImageBodyDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'The image (≤ MAX_UPLOAD_BYTES).' }) file: unknown;
  @ApiPropertyOptional({
    ...EAGER_PROPERTY,
    description:
      `${EAGER_PROPERTY.description} Sent as one form field holding the JSON array: as text, or as a part with \`Content-Type: application/json\`.`,
  })
  eager?: TransformationSpec[];
  @ApiPropertyOptional({
    format: 'uri',
    example: 'https://example.com/hooks/pixmill',
    description:
      'Receives `image.ready` and `image.deleted` of this image, and `job.succeeded`/`job.failed` of its eager jobs, signed with your account secret (GET /v1/webhook-secret). SSRF-checked: http(s), no private or loopback addresses.',
  })
  webhookUrl?: string;
}

export class DerivativeDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: '3f1c0a9e6b2d4e8f9a1b2c3d4e5f6a7b' }) specHash: string;
  @ApiProperty({ type: Object, description: 'The canonical spec it was rendered from.' }) spec: Record<string, unknown>;
  @ApiProperty({ example: 'webp' }) format: string;
  @ApiProperty({ example: 'image/webp' }) mimeType: string;
  @ApiProperty({ example: 800 }) width: number;
  @ApiProperty({ example: 600 }) height: number;
  @ApiProperty({ example: 48213 }) bytes: number;
  @ApiProperty({ description: 'Delivery URL.' }) url: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class DerivativeListDto {
  @ApiProperty({ type: [DerivativeDto] }) items: DerivativeDto[];
}
