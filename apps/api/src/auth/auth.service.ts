import { Injectable } from '@nestjs/common';
import { EmailTakenException, InvalidCredentialsException, UnauthorizedException } from '@pixmill/common';
import { RefreshTokenRepository, UserEntity, UserRepository } from '@pixmill/db';
import { AuthResponseDto, UserDto } from './dto/auth-response.dto';
import { EmailVerificationService } from './email-verification.service';
import { PasswordHasher } from './password.hasher';
import { TokenService } from './token.service';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly tokens: TokenService,
    private readonly passwords: PasswordHasher,
    private readonly verification: EmailVerificationService,
  ) {}

  static toUserDto(u: UserEntity): UserDto {
    return { id: u.id, email: u.email, plan: u.plan, emailVerified: u.emailVerifiedAt !== null, createdAt: u.createdAt.toISOString() };
  }

  async signup(email: string, password: string): Promise<AuthResponseDto> {
    const hash = await this.passwords.hash(password);
    const user = await this.users.create(email.toLowerCase(), hash);
    if (!user) throw new EmailTakenException();
    await this.verification.sendLink(user);
    return this.respond(user, await this.tokens.issue(user.id));
  }

  async login(email: string, password: string): Promise<AuthResponseDto> {
    const user = await this.users.findByEmail(email);
    const ok = await this.passwords.verify(user?.passwordHash, password);
    if (!user || !ok) throw new InvalidCredentialsException();
    return this.respond(user, await this.tokens.issue(user.id));
  }

  /** Rotates a refresh token. Presenting a spent token revokes its whole family (it was stolen or replayed). */
  async refresh(refreshToken: string): Promise<AuthResponseDto> {
    const result = await this.refreshTokens.consume(TokenService.hash(refreshToken));
    if (result.kind === 'reused') {
      await this.refreshTokens.revokeFamily(result.familyId);
      throw new UnauthorizedException('This refresh token was already used; its session has been revoked.');
    }
    if (result.kind === 'invalid') throw new UnauthorizedException('The refresh token is invalid or expired.');
    const user = await this.users.findById(result.token.userId);
    if (!user) throw new UnauthorizedException('The refresh token is invalid or expired.');
    return this.respond(user, await this.tokens.issue(user.id, result.token.familyId));
  }

  /** Revokes the session (token family) of a refresh token that belongs to the caller. */
  async logout(userId: string, refreshToken: string): Promise<void> {
    const token = await this.refreshTokens.findLive(TokenService.hash(refreshToken));
    if (token && token.userId === userId) await this.refreshTokens.revokeFamily(token.familyId);
  }

  private respond(user: UserEntity, t: { accessToken: string; refreshToken: string; expiresIn: number }): AuthResponseDto {
    return { user: AuthService.toUserDto(user), ...t, tokenType: 'Bearer' };
  }
}
