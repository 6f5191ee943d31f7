import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

export class DeleteAccountDto {
  @ApiProperty({ example: 'correct horse battery staple', description: 'The account’s current password.' })
  @IsString() @MaxLength(1024)
  password: string;
}
