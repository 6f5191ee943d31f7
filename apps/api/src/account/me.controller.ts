import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { AccountService } from './account.service';
import { MeDto } from './me.dto';

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
}
