import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../common/current-user.decorator';

/** Tokens remembered as verified; past this many the memo starts over (a bound on memory). */
const MEMO_MAX_ENTRIES = 10_000;
/**
 * How long a verified token is trusted before it is verified again, with its account's
 * existence: the bound on how long another API process, which did not see an account's
 * deletion, keeps accepting its tokens.
 */
export const TOKEN_RECHECK_MS = 60_000;

/**
 * Access tokens that passed verification, with their expiry. A client sends the same
 * token on every request until it expires, and verifying it (decoding, JSON parsing,
 * HMAC) was a tenth of the API's CPU when polling; the same string is the same
 * signature, so a token verified once is not verified again for TOKEN_RECHECK_MS,
 * while its expiry is checked on every use. Refusals are never remembered. Deleting an
 * account here forgets its tokens at once (forgetUser).
 */
@Injectable()
export class VerifiedTokenMemo {
  private readonly verified = new Map<string, { user: AuthUser; expiresAtMs: number; verifiedAtMs: number }>();

  /** The token's user, 'expired' once it has expired, or undefined when it was not verified here (or is due again). */
  recall(token: string, nowMs = Date.now()): AuthUser | 'expired' | undefined {
    const known = this.verified.get(token);
    if (!known) return undefined;
    if (known.expiresAtMs <= nowMs) {
      this.verified.delete(token);
      return 'expired';
    }
    if (nowMs - known.verifiedAtMs < TOKEN_RECHECK_MS) return known.user;
    this.verified.delete(token);
    return undefined;
  }

  remember(token: string, user: AuthUser, expSeconds: number | undefined, nowMs = Date.now()): void {
    if (this.verified.size >= MEMO_MAX_ENTRIES) this.verified.clear();
    this.verified.set(token, { user, expiresAtMs: expSeconds === undefined ? Infinity : expSeconds * 1000, verifiedAtMs: nowMs });
  }

  /** Forgets every token of the account (it was deleted). */
  forgetUser(userId: string): void {
    for (const [token, known] of this.verified) if (known.user.id === userId) this.verified.delete(token);
  }
}
