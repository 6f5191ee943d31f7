import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { AccountService } from './account.service';
import { MeDto, UpdateMeDto } from './me.dto';

@ApiTags('account')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  constructor(private readonly account: AccountService) {}

  @Get()
  @ApiOperation({ summary: 'The caller’s account, plan and usage' })
  @ApiResponse({ status: 200, type: MeDto })
  @ApiProblems('unauthorized')
  me(@CurrentUser() user: AuthUser): Promise<MeDto> {
    return this.account.me(user.id);
  }

  @Patch()
  @ApiOperation({
    summary: 'Change account settings',
    description: '`publicUrls: "presets-only"` makes `/i/` URLs accept only `preset=` (plus `format=auto`, `dpr`, `exp`, `sig`); others answer 403 `presets_only`.',
  })
  @ApiBody({ type: UpdateMeDto })
  @ApiResponse({ status: 200, type: MeDto })
  @ApiProblems('validation_failed', 'unauthorized')
  update(@CurrentUser() user: AuthUser, @Body() body: unknown): Promise<MeDto> {
    return this.account.update(user.id, body);
  }
}
