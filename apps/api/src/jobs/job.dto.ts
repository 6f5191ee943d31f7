import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';

export class JobErrorDto {
  @ApiProperty({ example: 'image_corrupt' }) code: string;
  @ApiProperty({ example: 'The image cannot be decoded.' }) message: string;
}

export class JobResultDto {
  @ApiProperty({ format: 'uuid' }) derivativeId: string;
  @ApiProperty({ description: 'Delivery URL (CDN, presigned S3, or the local file route).' }) url: string;
  @ApiProperty({ example: 800 }) width: number;
  @ApiProperty({ example: 600 }) height: number;
  @ApiProperty({ example: 'webp' }) format: string;
  @ApiProperty({ example: 48213 }) bytes: number;
}

export class JobDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'null once the image was deleted (its pending jobs are then `canceled`).' }) imageId: string | null;
  @ApiProperty({ enum: ['queued', 'active', 'succeeded', 'failed', 'canceled'] }) status: string;
  @ApiProperty({ example: 80, minimum: 0, maximum: 100 }) progress: number;
  @ApiProperty({ example: 1 }) attempts: number;
  @ApiProperty({ description: 'True when the derivative already existed and nothing was rendered.' }) cached: boolean;
  @ApiProperty({
    type: Object,
    description: 'The canonical spec (defaults filled) that is rendered.',
    example: { operations: [{ op: 'resize', width: 800, height: 600, fit: 'cover' }], output: { format: 'webp', quality: 80 } },
  })
  spec: Record<string, unknown>;
  @ApiProperty({ type: JobErrorDto, nullable: true }) error: JobErrorDto | null;
  @ApiProperty({ type: JobResultDto, nullable: true }) result: JobResultDto | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) startedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finishedAt: string | null;
}

export class JobPageDto {
  @ApiProperty({ type: [JobDto] }) items: JobDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class WaitQueryDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 30, description: 'Long-poll: wait up to this many seconds for a final status.' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(30)
  wait?: number;
}

export class ListJobsQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() imageId?: string;
  @ApiPropertyOptional({ enum: ['queued', 'active', 'succeeded', 'failed', 'canceled'] })
  @IsOptional() @IsIn(['queued', 'active', 'succeeded', 'failed', 'canceled'])
  status?: 'queued' | 'active' | 'succeeded' | 'failed' | 'canceled';
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) cursor?: string;
}
