import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { DETACHED_PASSPORT } from './detached-passport';
import { createSecretKey } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '@pixmill/config';
import { UserRepository } from '@pixmill/db';
import { looksLikeApiKey } from './api-key.util';
import type { AuthUser } from '../common/current-user.decorator';
import type { AccessTokenClaims } from './token.service';
import { VerifiedTokenMemo } from './verified-token.memo';

const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();
/** The request as passport-jwt types it (Fastify's raw request carries the same headers). */
type JwtRequest = Parameters<typeof bearerToken>[0];

/** The parts of passport's per-request strategy object that authenticate() uses. */
interface PassportActions {
  success(user: AuthUser): void;
  fail(challenge?: { name: string; message: string }, status?: number): void;
}

/**
 * passport-jwt, the first strategy of the one chain (['jwt', 'api-key'], JwtAuthGuard):
 * verifies the bearer JWT's signature (HS256), expiry and type, and that its `sub` (the
 * caller) still has an account. A token it verified within the last minute is taken from
 * VerifiedTokenMemo instead of being verified again. A `pm_…` bearer is the API-key
 * strategy's to judge.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  /** Registered with the application's own passport (APP_PASSPORT), not passport's process-wide one. */
  getPassportInstance() {
    return DETACHED_PASSPORT;
  }

  constructor(
    config: AppConfig,
    private readonly memo: VerifiedTokenMemo,
    private readonly users: UserRepository,
  ) {
    super({
      jwtFromRequest: bearerToken,
      // A KeyObject, made once: given a string, the JWT library first tries (and fails) to
      // parse it as a public key on every request.
      // (passport-jwt's types predate KeyObject; jsonwebtoken, which verifies, accepts it.)
      secretOrKey: createSecretKey(Buffer.from(config.jwt.secret)) as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  authenticate(this: JwtStrategy & PassportActions, req: JwtRequest, options?: object): void {
    const token = bearerToken(req);
    if (token && looksLikeApiKey(token)) return this.fail();
    const known = token ? this.memo.recall(token) : undefined;
    if (known === 'expired') return this.fail({ name: 'TokenExpiredError', message: 'jwt expired' }, 401);
    if (known) return this.success(known);
    super.authenticate(req, options);
  }

  /** After the signature: a deleted account's tokens are refused (one indexed read per token a minute). */
  async validate(req: JwtRequest, claims: AccessTokenClaims & { exp?: number }): Promise<AuthUser | false> {
    if (claims.typ !== 'access' || typeof claims.sub !== 'string') return false;
    if (!(await this.users.exists(claims.sub))) return false;
    const user = { id: claims.sub };
    this.memo.remember(bearerToken(req)!, user, claims.exp);
    return user;
  }
}
