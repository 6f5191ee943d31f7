import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returnedRows } from '../sql.util';

/** An API key as its owner sees it: never the key, only its first characters. */
export interface ApiKeyRow {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** What authenticating with a key needs. */
export interface ApiKeyGrant {
  id: string;
  userId: string;
  scopes: string[];
}

/** Keys one account may hold. */
export const MAX_API_KEYS_PER_USER = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COLUMNS = `id, user_id AS "userId", name, prefix, scopes, created_at AS "createdAt", last_used_at AS "lastUsedAt"`;

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly ds: DataSource) {}

  /** Inserts a key under the user row's lock; null when the account holds MAX_API_KEYS_PER_USER already (or is gone). */
  async insert(key: { userId: string; name: string; prefix: string; keyHash: string; scopes: string[] }): Promise<ApiKeyRow | null> {
    return this.ds.transaction(async (em) => {
      const [user] = await em.query(`SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, [key.userId]);
      if (!user) return null;
      const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM api_keys WHERE user_id = $1`, [key.userId]);
      if (n >= MAX_API_KEYS_PER_USER) return null;
      const rows: ApiKeyRow[] = await em.query(
        `INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [key.userId, key.name, key.prefix, key.keyHash, key.scopes],
      );
      return rows[0];
    });
  }

  list(userId: string): Promise<ApiKeyRow[]> {
    return this.ds.query(`SELECT ${COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id`, [userId]);
  }

  /** Deletes the owner's key; false when there is none of that id for that owner. */
  async delete(userId: string, id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const res = await this.ds.query(`DELETE FROM api_keys WHERE id = $1 AND user_id = $2 RETURNING id`, [id, userId]);
    return returnedRows(res).length > 0;
  }

  /**
   * The key of this hash, recording its use in the same statement: authentication reads a
   * key here only when its in-process memo entry is missing or due for a check (once a
   * minute), so `last_used_at` costs no write per request.
   */
  async use(keyHash: string): Promise<ApiKeyGrant | null> {
    const res = await this.ds.query(
      `UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 RETURNING id, user_id AS "userId", scopes`,
      [keyHash],
    );
    return returnedRows<ApiKeyGrant>(res)[0] ?? null;
  }
}
