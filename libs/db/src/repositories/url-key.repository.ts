import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ReadCache } from '../cache/read-cache.service';

/** One stored signing key of public URLs; the key itself is encrypted (docs/decisions/017). */
export interface UrlKeyRow {
  id: string;
  userId: string;
  keyCiphertext: string;
  createdAt: Date;
  /** null for the current key; set on the keys a rotation replaced. */
  expiresAt: Date | null;
}

/** How long a replaced key keeps signing (SPEC §8). */
export const PREVIOUS_URL_KEY_VALIDITY_SECONDS = 24 * 3600;

const COLUMNS = `id, user_id AS "userId", key_ciphertext AS "keyCiphertext", created_at AS "createdAt", expires_at AS "expiresAt"`;

/** A list read from the cache: JSON keeps dates as strings. */
function revive(list: UrlKeyRow[]): UrlKeyRow[] {
  for (const k of list) {
    k.createdAt = new Date(k.createdAt);
    k.expiresAt = k.expiresAt === null ? null : new Date(k.expiresAt);
  }
  return list;
}

@Injectable()
export class UrlKeyRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly cache: ReadCache,
  ) {}

  /**
   * The account's keys that still sign (the current one and those within their 24 h),
   * newest first, through the read cache (the public route reads them on every request).
   * A cached list may hold a key that expired since; callers check `expiresAt`.
   */
  async listValid(userId: string): Promise<UrlKeyRow[]> {
    const list = await this.cache.readThrough<UrlKeyRow[]>(
      'url-keys',
      userId,
      () => this.ds.query(`SELECT ${COLUMNS} FROM url_keys WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC, id`, [userId]),
      revive,
    );
    const now = Date.now();
    return (list ?? []).filter((k) => k.expiresAt === null || k.expiresAt.getTime() > now);
  }

  /**
   * Makes `ciphertext` the current key. The key it replaces signs for 24 h more. One
   * transaction under the user row's lock, so racing rotations leave one current key.
   * When `onlyIfNone` is set, nothing happens if a current key exists (the first key is
   * made on demand). Returns the new row, or null when `onlyIfNone` found one.
   */
  async rotate(userId: string, ciphertext: string, opts: { onlyIfNone?: boolean } = {}): Promise<UrlKeyRow | null> {
    const row = await this.ds.transaction(async (em) => {
      await em.query(`SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, [userId]);
      if (opts.onlyIfNone) {
        const current = await em.query(`SELECT 1 FROM url_keys WHERE user_id = $1 AND expires_at IS NULL`, [userId]);
        if (current.length) return null;
      }
      await em.query(
        `UPDATE url_keys SET expires_at = now() + make_interval(secs => $2) WHERE user_id = $1 AND expires_at IS NULL`,
        [userId, PREVIOUS_URL_KEY_VALIDITY_SECONDS],
      );
      const rows: UrlKeyRow[] = await em.query(
        `INSERT INTO url_keys (id, user_id, key_ciphertext) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [randomUUID(), userId, ciphertext],
      );
      return rows[0];
    });
    await this.cache.invalidate('url-keys', [userId]);
    return row;
  }
}
