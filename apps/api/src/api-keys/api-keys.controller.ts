import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { ApiKeyListDto, CreateApiKeyDto, CreatedApiKeyDto } from './api-key.dto';
import { ApiKeysService } from './api-keys.service';

/** Sessions only (no @RequiresScope): an API key never makes, lists or deletes keys (docs/decisions/033). */
@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API key',
    description: 'For servers: send it as `Authorization: Bearer pm_…`. The key is in this answer only (only its hash is stored). Its `scopes` decide which routes it may call; other routes answer 403 `insufficient_scope`.',
  })
  @ApiResponse({ status: 201, type: CreatedApiKeyDto })
  @ApiProblems('validation_failed', 'unauthorized', ['conflict', 'the account holds 50 keys already'])
  create(@CurrentUser() user: AuthUser, @Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.keys.create(user.id, body.name, body.scopes);
  }

  @Get()
  @ApiOperation({ summary: 'Your API keys (without the keys themselves), newest first' })
  @ApiResponse({ status: 200, type: ApiKeyListDto })
  @ApiProblems('unauthorized')
  async list(@CurrentUser() user: AuthUser): Promise<ApiKeyListDto> {
    return { items: await this.keys.list(user.id) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete (revoke) an API key', description: 'Requests with it answer 401 from now on (within a minute on every API process).' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 204, description: 'Deleted.' })
  @ApiProblems('unauthorized', 'not_found')
  async delete(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.keys.delete(user.id, id);
  }
}
