import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsIn, IsInt, IsOptional, IsString, MaxLength, Min, MinLength } from 'class-validator';
import { EAGER_PROPERTY } from '../../transformations/transformation-spec.openapi';

export const DIRECT_UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/heic', 'image/heif', 'image/tiff'];

export class CreateUploadDto {
  @ApiProperty({ example: 'beach.jpg', maxLength: 255 })
  @IsString() @MinLength(1) @MaxLength(1024)
  filename: string;

  @ApiProperty({ enum: DIRECT_UPLOAD_TYPES, example: 'image/jpeg', description: 'The storage policy requires exactly this Content-Type.' })
  @IsIn(DIRECT_UPLOAD_TYPES)
  contentType: string;

  @ApiProperty({ example: 2481733, description: 'Exact size in bytes; the policy refuses anything larger. At most MAX_UPLOAD_BYTES.' })
  @IsInt() @Min(1)
  bytes: number;

  @ApiPropertyOptional({
    ...EAGER_PROPERTY,
    description: `${EAGER_PROPERTY.description} Validated now; rendered when the upload completes.`,
  })
  @IsOptional() @IsArray()
  eager?: unknown[];

  @ApiPropertyOptional({
    format: 'uri',
    example: 'https://example.com/hooks/pixmill',
    description:
      'Receives `image.ready` and `image.deleted` of the image, and `job.succeeded`/`job.failed` of its eager jobs, signed with your account secret. SSRF-checked now and at each delivery.',
  })
  @IsOptional() @IsString() @MaxLength(2048)
  webhookUrl?: string;
}

export class DirectUploadDto {
  @ApiProperty({ format: 'uuid' }) uploadId: string;
  @ApiProperty({ enum: ['POST', 'PUT'], example: 'POST' }) method: 'POST' | 'PUT';
  @ApiProperty({ example: 'https://pixmill-images.s3.amazonaws.com/' }) url: string;
  @ApiPropertyOptional({ type: Object, description: 'Form fields to send before the file (POST policy uploads).' })
  fields?: Record<string, string>;
  @ApiPropertyOptional({ type: Object, description: 'Headers to send (PUT uploads).' })
  headers?: Record<string, string>;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}
