import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { PresetBodyDto, PresetDto, PresetListDto } from './preset.dto';
import { PresetsService } from './presets.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('presets')
@ApiBearerAuth()
@RequiresScope('transformations')
@Controller('v1/presets')
export class PresetsController {
  constructor(private readonly presets: PresetsService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a preset',
    description: 'A named spec, usable as `preset=name` in the query syntax (authenticated and public URLs) and as `"preset": "name"` in a JSON spec: its operations run first, then the request’s own; its output settings apply unless the request sets them.',
  })
  @ApiBody({ type: PresetBodyDto, examples: { thumb: { value: { name: 'thumb-square', spec: { operations: [{ op: 'crop', width: 400, height: 400, gravity: 'attention' }], output: { format: 'webp', quality: 75 } } } } } })
  @ApiResponse({ status: 201, type: PresetDto })
  @ApiProblems('validation_failed', 'unauthorized', ['conflict', 'you have a preset of that name'])
  create(@CurrentUser() user: AuthUser, @Body() body: unknown): Promise<PresetDto> {
    return this.presets.create(user.id, body);
  }

  @Get()
  @ApiOperation({ summary: 'Your presets, by name' })
  @ApiResponse({ status: 200, type: PresetListDto })
  @ApiProblems('unauthorized')
  async list(@CurrentUser() user: AuthUser): Promise<PresetListDto> {
    return { items: await this.presets.list(user.id) };
  }

  @Get(':name')
  @ApiOperation({ summary: 'One preset' })
  @ApiParam({ name: 'name', example: 'thumb-square' })
  @ApiResponse({ status: 200, type: PresetDto })
  @ApiProblems('unauthorized', 'not_found')
  get(@CurrentUser() user: AuthUser, @Param('name') name: string): Promise<PresetDto> {
    return this.presets.get(user.id, name);
  }

  @Put(':name')
  @ApiOperation({ summary: 'Replace a preset’s spec', description: 'Renders already made keep their derivatives; URLs naming the preset render the new spec from now on.' })
  @ApiParam({ name: 'name', example: 'thumb-square' })
  @ApiBody({ type: PresetBodyDto })
  @ApiResponse({ status: 200, type: PresetDto })
  @ApiProblems('validation_failed', 'unauthorized', 'not_found')
  replace(@CurrentUser() user: AuthUser, @Param('name') name: string, @Body() body: unknown): Promise<PresetDto> {
    return this.presets.replace(user.id, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a preset' })
  @ApiParam({ name: 'name', example: 'thumb-square' })
  @ApiResponse({ status: 204, description: 'Deleted.' })
  @ApiProblems('unauthorized', 'not_found')
  async delete(@CurrentUser() user: AuthUser, @Param('name') name: string): Promise<void> {
    await this.presets.delete(user.id, name);
  }
}
