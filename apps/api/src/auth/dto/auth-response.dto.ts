import { ApiProperty } from '@nestjs/swagger';

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'ada@example.com' }) email: string;
  @ApiProperty({ enum: ['free', 'pro', 'unlimited'], example: 'free' }) plan: string;
  @ApiProperty({ example: false, description: 'Whether the address was verified through the link mailed at signup.' }) emailVerified: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class AuthResponseDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
  @ApiProperty({ description: 'JWT for `Authorization: Bearer`.' }) accessToken: string;
  @ApiProperty({ description: 'Opaque, single-use; exchange it at /v1/auth/refresh.' }) refreshToken: string;
  @ApiProperty({ example: 3600, description: 'Seconds until the access token expires.' }) expiresIn: number;
  @ApiProperty({ example: 'Bearer' }) tokenType: 'Bearer';
}
