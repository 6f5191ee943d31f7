import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsString, Matches, MaxLength } from 'class-validator';
import { API_KEY_SCOPES } from '../common/api-key-scope.decorator';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'gallery backend', maxLength: 100 })
  @IsString() @MaxLength(100) @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true, example: ['images:read'], description: 'What the key may do; see the README for the routes each scope opens.' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(API_KEY_SCOPES.length) @ArrayUnique() @IsIn(API_KEY_SCOPES, { each: true })
  scopes: string[];
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'pm_4fQ9xZ2a', description: 'The key’s first characters, to recognise it.' }) prefix: string;
  @ApiProperty({ example: 'gallery backend' }) name: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true, example: ['images:read'] }) scopes: string[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'Recorded at most about once a minute per API process.' })
  lastUsedAt: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ example: 'pm_4fQ9xZ2aLr7TqW0bNc3YdKe8HuJ1sVmPgXo6iA5t', description: 'The key. Shown this once: only its hash is stored.' })
  key: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyDto] }) items: ApiKeyDto[];
}
