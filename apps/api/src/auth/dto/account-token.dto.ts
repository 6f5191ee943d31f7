import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class AccountTokenDto {
  @ApiProperty({ example: 'k3F0bW9…', description: 'The token of the link in the verification mail (its `token` query parameter).' })
  @IsString()
  @MinLength(10)
  @MaxLength(200)
  token: string;
}
