import { ApiProperty } from '@nestjs/swagger';

export class UrlKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'pmk_9xQd3lQ0VtJ1m7sQ4ZkqP2h8Hc5yNw6aRjL0uT3bE1Y', description: '`pmk_` and 43 base64url characters. A secret: sign URLs on your server.' })
  key: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'null for the current key; a replaced key signs until then (24 h after the rotation).' })
  expiresAt: string | null;
}

export class UrlKeyListDto {
  @ApiProperty({ type: [UrlKeyDto], description: 'Newest first: the current key, then replaced keys that still sign.' })
  keys: UrlKeyDto[];
}
