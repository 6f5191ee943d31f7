import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { Public } from '../common/public.decorator';
import { AuthService } from './auth.service';
import { AuthResponseDto } from './dto/auth-response.dto';
import { CredentialsDto } from './dto/credentials.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';
import { AccountTokenDto } from './dto/account-token.dto';
import { PasswordResetConfirmDto } from './dto/password-reset-confirm.dto';
import { PasswordResetRequestDto } from './dto/password-reset-request.dto';
import { EmailVerificationService } from './email-verification.service';
import { PasswordService } from './password.service';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly verification: EmailVerificationService,
    private readonly passwords: PasswordService,
  ) {}

  @Public()
  @Post('signup')
  @ApiOperation({ summary: 'Create an account', description: 'Password of at least 8 characters, hashed with argon2id.' })
  @ApiResponse({ status: 201, type: AuthResponseDto })
  @ApiProblems('validation_failed', 'email_taken')
  signup(@Body() body: CredentialsDto): Promise<AuthResponseDto> {
    return this.auth.signup(body.email, body.password);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in with email and password' })
  @ApiResponse({ status: 200, type: AuthResponseDto })
  @ApiProblems('validation_failed', ['invalid_credentials', 'wrong email or password, the same answer for unknown emails'])
  login(@Body() body: CredentialsDto): Promise<AuthResponseDto> {
    return this.auth.login(body.email, body.password);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Exchange a refresh token for a new pair',
    description: 'Refresh tokens are single-use and rotate. Presenting a spent one revokes its whole session.',
  })
  @ApiResponse({ status: 200, type: AuthResponseDto })
  @ApiProblems('validation_failed', ['unauthorized', 'invalid, expired, revoked or reused refresh token'])
  refresh(@Body() body: RefreshTokenDto): Promise<AuthResponseDto> {
    return this.auth.refresh(body.refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End the session of a refresh token', description: 'Revokes the token and its rotation family.' })
  @ApiResponse({ status: 204, description: 'Logged out.' })
  @ApiProblems('validation_failed', 'unauthorized')
  async logout(@CurrentUser() user: AuthUser, @Body() body: RefreshTokenDto): Promise<void> {
    await this.auth.logout(user.id, body.refreshToken);
  }

  @Public()
  @Post('verify')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Verify the account’s email address',
    description: 'With the token of the link mailed at signup (or by /v1/auth/verify/resend). Tokens are single-use and last EMAIL_VERIFICATION_TTL (24 h).',
  })
  @ApiResponse({ status: 204, description: 'The address is verified.' })
  @ApiProblems('validation_failed', ['token_invalid', 'unknown, already used or expired token'])
  async verify(@Body() body: AccountTokenDto): Promise<void> {
    await this.verification.verify(body.token);
  }

  @Post('verify/resend')
  @HttpCode(202)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Mail the verification link again',
    description: 'A new single-use link, VERIFICATION_RESEND_PER_HOUR times an hour per account (earlier links stay valid). Nothing is sent when the address is already verified.',
  })
  @ApiResponse({ status: 202, description: 'Accepted; the mail is on its way.' })
  @ApiProblems('unauthorized', ['rate_limited', 'too many resends for this account in the last hour; see Retry-After'], 'unavailable')
  async resendVerification(@CurrentUser() user: AuthUser): Promise<void> {
    await this.verification.resend(user.id);
  }

  @Public()
  @Post('password-reset')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Mail a password reset link',
    description: 'Answers 202 whether or not the address has an account (and without waiting for the mail), so the answer tells nobody which addresses are registered. The link is single-use and lasts PASSWORD_RESET_TTL (1 h).',
  })
  @ApiResponse({ status: 202, description: 'Accepted; a mail goes out if the address has an account.' })
  @ApiProblems('validation_failed')
  async requestPasswordReset(@Body() body: PasswordResetRequestDto): Promise<void> {
    await this.passwords.requestReset(body.email);
  }

  @Public()
  @Post('password-reset/confirm')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Set a new password with a reset token',
    description: 'Spends the token (and every other reset token of the account) and revokes every session (refresh-token family) of the account. Access tokens already issued run out on their own (JWT_ACCESS_TTL).',
  })
  @ApiResponse({ status: 204, description: 'The password is changed; log in with it.' })
  @ApiProblems('validation_failed', ['token_invalid', 'unknown, already used or expired token'])
  async confirmPasswordReset(@Body() body: PasswordResetConfirmDto): Promise<void> {
    await this.passwords.confirmReset(body.token, body.password);
  }
}
