import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class RefreshTokenDto {
  @ApiProperty({ example: 'pmr_6Jq0Rk1m9bZ…', description: 'A refresh token from signup, login or refresh.' })
  @IsString()
  @MinLength(10)
  @MaxLength(200)
  refreshToken: string;
}
