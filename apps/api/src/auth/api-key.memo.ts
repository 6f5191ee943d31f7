import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../common/current-user.decorator';

/** Keys remembered; past this many the memo starts over (a bound on memory). */
const MEMO_MAX_ENTRIES = 10_000;
/**
 * How long a remembered key is trusted before it is read again. The read records the key's
 * use (last_used_at), and it bounds how long another API process, which did not see a key's
 * deletion, keeps accepting it.
 */
export const API_KEY_RECHECK_MS = 60_000;

interface Remembered {
  user: AuthUser & { apiKey: NonNullable<AuthUser['apiKey']> };
  checkedAtMs: number;
}

/**
 * API keys this process has authenticated, by the SHA-256 of the key (the key itself is not
 * kept), like VerifiedTokenMemo for JWTs: a key sent on every request is read from
 * PostgreSQL once a minute, not per request. Deleting a key or an account here forgets its
 * entries at once; other processes read the key again within API_KEY_RECHECK_MS.
 */
@Injectable()
export class ApiKeyMemo {
  private readonly keys = new Map<string, Remembered>();

  /** The key's caller while its entry is fresh; undefined when unknown here or due for a check. */
  recall(keyHash: string, nowMs = Date.now()): Remembered['user'] | undefined {
    const known = this.keys.get(keyHash);
    if (!known) return undefined;
    if (nowMs - known.checkedAtMs < API_KEY_RECHECK_MS) return known.user;
    this.keys.delete(keyHash);
    return undefined;
  }

  remember(keyHash: string, user: Remembered['user'], nowMs = Date.now()): void {
    if (this.keys.size >= MEMO_MAX_ENTRIES) this.keys.clear();
    this.keys.set(keyHash, { user, checkedAtMs: nowMs });
  }

  forgetKey(keyId: string): void {
    for (const [hash, known] of this.keys) if (known.user.apiKey.id === keyId) this.keys.delete(hash);
  }

  forgetUser(userId: string): void {
    for (const [hash, known] of this.keys) if (known.user.id === userId) this.keys.delete(hash);
  }
}
