import { ApiProperty } from '@nestjs/swagger';

export class UsageDto {
  @ApiProperty({ example: 1048576 }) storageBytes: number;
  @ApiProperty({ example: 5368709120, nullable: true, type: Number, description: 'null on the `unlimited` plan.' }) storageQuotaBytes: number | null;
  @ApiProperty({ example: 3 }) transformsToday: number;
  @ApiProperty({ example: 20, nullable: true, type: Number, description: 'null on the `unlimited` plan.' }) dailyTransformQuota: number | null;
}

export class MeDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'ada@example.com' }) email: string;
  @ApiProperty({ enum: ['free', 'pro', 'unlimited'] }) plan: string;
  @ApiProperty({ example: true, description: 'Whether the address was verified through the mailed link.' }) emailVerified: boolean;
  @ApiProperty({ enum: ['user', 'admin'], description: '`admin` may open the queue dashboard (POST /v1/admin/queues/session); set with `npm run admin -- set-role`.' })
  role: 'user' | 'admin';
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: UsageDto }) usage: UsageDto;
  @ApiProperty({ enum: ['any', 'presets-only'], description: 'What public /i/ URLs may ask for: any spec, or only `preset=` (plus `format=auto`, `dpr`).' })
  publicUrls: 'any' | 'presets-only';
}

export class UpdateMeDto {
  @ApiProperty({ enum: ['any', 'presets-only'], required: false, example: 'presets-only' })
  publicUrls?: 'any' | 'presets-only';
}
