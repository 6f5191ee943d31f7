import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppConfig } from '@pixmill/config';
import { RefreshTokenRepository } from '@pixmill/db';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface AccessTokenClaims {
  sub: string;
  typ: 'access';
}

/** Issues access JWTs and opaque refresh tokens (stored only as SHA-256 hashes). */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly refreshTokens: RefreshTokenRepository,
  ) {}

  static hash(refreshToken: string): string {
    return createHash('sha256').update(refreshToken).digest('hex');
  }

  async issue(userId: string, familyId: string = randomUUID()): Promise<IssuedTokens> {
    const refreshToken = `pmr_${randomBytes(32).toString('base64url')}`;
    await this.refreshTokens.insert({
      userId,
      familyId,
      tokenHash: TokenService.hash(refreshToken),
      expiresAt: new Date(Date.now() + this.config.jwt.refreshTtlSeconds * 1000),
    });
    const claims: AccessTokenClaims = { sub: userId, typ: 'access' };
    const accessToken = await this.jwt.signAsync(claims, {
      expiresIn: this.config.jwt.accessTtlSeconds,
      jwtid: randomUUID(),
    });
    return { accessToken, refreshToken, expiresIn: this.config.jwt.accessTtlSeconds };
  }
}
