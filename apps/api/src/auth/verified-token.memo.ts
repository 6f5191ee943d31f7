import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../common/current-user.decorator';

/** Tokens remembered as verified; past this many the memo starts over (a bound on memory). */
const MEMO_MAX_ENTRIES = 10_000;

/**
 * Access tokens that passed verification, with their expiry. A client sends the same
 * token on every request until it expires, and verifying it (decoding, JSON parsing,
 * HMAC) was a tenth of the API's CPU when polling; the same string is the same
 * signature, so a token verified once is not verified again, while its expiry is
 * checked on every use. Refusals are never remembered.
 */
@Injectable()
export class VerifiedTokenMemo {
  private readonly verified = new Map<string, { user: AuthUser; expiresAtMs: number }>();

  /** The token's user, 'expired' once it has expired, or undefined when it was not verified here. */
  recall(token: string): AuthUser | 'expired' | undefined {
    const known = this.verified.get(token);
    if (!known) return undefined;
    if (known.expiresAtMs > Date.now()) return known.user;
    this.verified.delete(token);
    return 'expired';
  }

  remember(token: string, user: AuthUser, expSeconds: number | undefined): void {
    if (this.verified.size >= MEMO_MAX_ENTRIES) this.verified.clear();
    this.verified.set(token, { user, expiresAtMs: expSeconds === undefined ? Infinity : expSeconds * 1000 });
  }
}
