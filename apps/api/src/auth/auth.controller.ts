import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { Public } from '../common/public.decorator';
import { AuthService } from './auth.service';
import { AuthResponseDto } from './dto/auth-response.dto';
import { CredentialsDto } from './dto/credentials.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

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
}
