import { Injectable } from '@nestjs/common';
import { AppConfig } from '@pixmill/config';
import { UrlKeyRepository, UrlKeyRow } from '@pixmill/db';
import { UrlKeyDto } from './url-key.dto';
import { UrlKeyCipher } from './url-key.cipher';
import { newUrlKey } from './url-signature.util';

/** A decrypted key that still signs. */
export interface UrlKey {
  id: string;
  key: string;
  createdAt: Date;
  expiresAt: Date | null;
}

/** Accounts whose decrypted keys an API process keeps; past this many the memo starts over (a bound on memory). */
const MEMO_MAX_ACCOUNTS = 10_000;

/** An account's signing keys of public image URLs (SPEC §8). */
@Injectable()
export class UrlKeysService {
  /** Decrypted keys by account, and when they were read (docs/decisions/050). */
  private readonly memo = new Map<string, { keys: UrlKey[]; readAt: number }>();
  private readonly memoMs: number;

  constructor(
    private readonly rows: UrlKeyRepository,
    private readonly cipher: UrlKeyCipher,
    config: AppConfig,
  ) {
    this.memoMs = config.limits.urlKeyMemoSeconds * 1000;
  }

  /**
   * The keys that sign for the account, for checking a public URL: from memory for
   * URL_KEY_MEMO_SECONDS after they were read (no Redis read, no decryption on a cache
   * hit of /i/), then read again. `fresh` reads them now: a signature the remembered keys
   * do not match is checked once more against the stored ones, so a key made by a
   * rotation on another API process signs everywhere at once. A key past its 24 h is
   * dropped on every call, remembered or not.
   */
  async signingKeys(userId: string, opts: { fresh?: boolean } = {}): Promise<{ keys: UrlKey[]; remembered: boolean }> {
    const now = Date.now();
    const known = opts.fresh ? undefined : this.memo.get(userId);
    if (known && now - known.readAt < this.memoMs) {
      return { keys: known.keys.filter((k) => k.expiresAt === null || k.expiresAt.getTime() > now), remembered: true };
    }
    const keys = await this.validKeys(userId);
    if (this.memoMs > 0) {
      if (this.memo.size >= MEMO_MAX_ACCOUNTS) this.memo.clear();
      this.memo.set(userId, { keys, readAt: now });
    }
    return { keys, remembered: false };
  }

  /** The keys that sign for the account (read cache; no key is made here). */
  async validKeys(userId: string): Promise<UrlKey[]> {
    return this.decrypt(userId, await this.rows.listValid(userId));
  }

  /** The account's keys, newest first; the first key is made on first use. */
  async list(userId: string): Promise<UrlKeyDto[]> {
    let keys = await this.validKeys(userId);
    if (!keys.some((k) => k.expiresAt === null)) {
      await this.rows.rotate(userId, this.cipher.encrypt(userId, newUrlKey()), { onlyIfNone: true });
      this.memo.delete(userId);
      keys = await this.validKeys(userId);
    }
    return keys.map(toDto);
  }

  /** A new current key; the replaced one signs for 24 h more. */
  async rotate(userId: string): Promise<UrlKeyDto> {
    const key = newUrlKey();
    const row = await this.rows.rotate(userId, this.cipher.encrypt(userId, key));
    this.memo.delete(userId);
    return toDto({ ...row!, key });
  }

  /** The current key, made on first use (signs the URLs the API hands out). */
  async currentKey(userId: string): Promise<string> {
    await this.list(userId);
    const current = (await this.validKeys(userId)).find((k) => k.expiresAt === null);
    return current!.key;
  }

  private decrypt(userId: string, rows: UrlKeyRow[]): UrlKey[] {
    const keys: UrlKey[] = [];
    for (const r of rows) {
      const key = this.cipher.decrypt(userId, r.keyCiphertext);
      if (key !== null) keys.push({ id: r.id, key, createdAt: r.createdAt, expiresAt: r.expiresAt });
    }
    return keys;
  }
}

function toDto(k: UrlKey): UrlKeyDto {
  return { id: k.id, key: k.key, createdAt: k.createdAt.toISOString(), expiresAt: k.expiresAt ? k.expiresAt.toISOString() : null };
}
