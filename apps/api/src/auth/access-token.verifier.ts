import { Injectable } from '@nestjs/common';
import { JwtService, TokenExpiredError } from '@nestjs/jwt';
import { createSecretKey, KeyObject } from 'node:crypto';
import { UnauthorizedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import type { AuthUser } from '../common/current-user.decorator';
import type { AccessTokenClaims } from './token.service';

/** Tokens remembered as verified; past this many the memo starts over (a bound on memory). */
const MEMO_MAX_ENTRIES = 10_000;

/**
 * Verifies access JWTs (HS256, signature, expiry, `typ: access`); the caller is its `sub`.
 *
 * A client sends the same token on every request until it expires, and verifying it
 * (decoding, JSON parsing, HMAC) was a tenth of the API's CPU when polling. So a token
 * that verified is remembered with its expiry: the same string is the same signature, and
 * the expiry is checked on every use. Failures are not remembered.
 */
@Injectable()
export class AccessTokenVerifier {
  /** A KeyObject, made once: given a string, the JWT library first tries (and fails) to parse it as a public key every time. */
  private readonly key: KeyObject;
  private readonly verified = new Map<string, { user: AuthUser; expiresAtMs: number }>();

  constructor(
    private readonly jwt: JwtService,
    config: AppConfig,
  ) {
    this.key = createSecretKey(Buffer.from(config.jwt.secret));
  }

  verify(token: string): AuthUser {
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAtMs > Date.now()) return known.user;
      this.verified.delete(token);
      throw new UnauthorizedException('The access token has expired.');
    }
    let claims: AccessTokenClaims & { exp?: number };
    try {
      // (The JWT library's types predate KeyObject; it accepts one.)
      claims = this.jwt.verify(token, { secret: this.key as unknown as string, algorithms: ['HS256'] });
    } catch (err) {
      if (err instanceof TokenExpiredError) throw new UnauthorizedException('The access token has expired.');
      throw new UnauthorizedException('The access token is invalid.');
    }
    if (claims.typ !== 'access' || typeof claims.sub !== 'string') throw new UnauthorizedException('The access token is invalid.');
    const user = { id: claims.sub };
    if (this.verified.size >= MEMO_MAX_ENTRIES) this.verified.clear();
    this.verified.set(token, { user, expiresAtMs: claims.exp === undefined ? Infinity : claims.exp * 1000 });
    return user;
  }
}
