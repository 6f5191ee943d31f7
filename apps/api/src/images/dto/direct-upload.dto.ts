import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, MaxLength, Min, MinLength } from 'class-validator';

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
