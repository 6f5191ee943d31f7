import { Controller, Get, Param, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { SrcsetDto } from './srcset.dto';
import { SrcsetService } from './srcset.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('public urls')
@ApiBearerAuth()
@RequiresScope('images:read')
@Controller('v1/images/:id')
export class SrcsetController {
  constructor(private readonly srcsets: SrcsetService) {}

  @Get('srcset')
  @ApiOperation({
    summary: 'Signed URLs of a responsive image',
    description:
      'One signed `/i/` URL per width (each the given options, then `resize={width}x`), signed with your current key: `src` (the widest), `srcset`, `sizes` and an example `<img>` tag. Options are those of `/i/`: the query syntax, `preset`, `format=auto`, `dpr`, `exp`; not `resize` (the widths make it).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiQuery({ name: 'widths', required: true, example: '320,640,1280', description: '1–10 widths in pixels, comma-separated.' })
  @ApiQuery({ name: 'preset', required: false, example: 'thumb-square' })
  @ApiQuery({ name: 'format', required: false, example: 'auto' })
  @ApiResponse({ status: 200, type: SrcsetDto })
  @ApiProblems('validation_failed', 'unauthorized', 'not_found')
  srcset(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() req: FastifyRequest): Promise<SrcsetDto> {
    return this.srcsets.build(user.id, id, new URLSearchParams(req.url.split('?')[1] ?? ''));
  }
}
