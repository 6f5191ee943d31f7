import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { AccountService } from './account.service';
import { AccountDeletionService } from './account-deletion.service';
import { DeleteAccountDto } from './delete-account.dto';
import { MeDto, UpdateMeDto } from './me.dto';
import { ChangePasswordDto } from '../auth/dto/change-password.dto';
import { PasswordService } from '../auth/password.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('account')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  constructor(
    private readonly account: AccountService,
    private readonly passwords: PasswordService,
    private readonly deletion: AccountDeletionService,
  ) {}

  @RequiresScope('account')
  @Get()
  @ApiOperation({ summary: 'The caller’s account, plan and usage' })
  @ApiResponse({ status: 200, type: MeDto })
  @ApiProblems('unauthorized')
  me(@CurrentUser() user: AuthUser): Promise<MeDto> {
    return this.account.me(user.id);
  }

  @RequiresScope('account')
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

  @Post('password')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Change the password',
    description: 'Needs the current password. Every session (refresh-token family) of the account is revoked, this one included: log in again with the new password.',
  })
  @ApiResponse({ status: 204, description: 'The password is changed.' })
  @ApiProblems('validation_failed', 'unauthorized', ['invalid_credentials', 'the current password is wrong'])
  async changePassword(@CurrentUser() user: AuthUser, @Body() body: ChangePasswordDto): Promise<void> {
    await this.passwords.change(user.id, body.currentPassword, body.newPassword);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete the account',
    description:
      'Needs the password; sessions only (API keys cannot). Images, derivatives, jobs (those in flight are canceled), webhooks, presets, URL keys and API keys go at once, the stored objects by a retried cleanup job; every session and key stops working. The email address can sign up again.',
  })
  @ApiBody({ type: DeleteAccountDto })
  @ApiResponse({ status: 204, description: 'The account is deleted.' })
  @ApiProblems('validation_failed', 'unauthorized', ['invalid_credentials', 'the password is wrong'])
  async delete(@CurrentUser() user: AuthUser, @Body() body: DeleteAccountDto): Promise<void> {
    await this.deletion.delete(user.id, body.password);
  }
}
