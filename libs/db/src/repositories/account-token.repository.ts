import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '../sql.util';

/** What a mailed account token lets its holder do. */
export type AccountTokenPurpose = 'verify_email' | 'password_reset';

/** Single-use tokens mailed to an account's address, stored only as SHA-256 hashes. */
@Injectable()
export class AccountTokenRepository {
  constructor(private readonly ds: DataSource) {}

  async insert(userId: string, purpose: AccountTokenPurpose, tokenHash: string, ttlSeconds: number): Promise<void> {
    await this.ds.query(
      `INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [userId, purpose, tokenHash, ttlSeconds],
    );
  }

  /**
   * Spends a live token of `purpose` and every other unspent one of its account and
   * purpose (a used reset link also voids the links mailed before it), atomically: of two
   * concurrent uses exactly one gets the user id. Null for an unknown, spent or expired token.
   */
  async consume(tokenHash: string, purpose: AccountTokenPurpose, em: EntityManager = this.ds.manager): Promise<string | null> {
    const res = await em.query(
      `WITH spent AS (
         UPDATE account_tokens SET used_at = now()
          WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
          RETURNING user_id
       ), others AS (
         UPDATE account_tokens t SET used_at = now() FROM spent
          WHERE t.user_id = spent.user_id AND t.purpose = $2 AND t.used_at IS NULL AND t.token_hash <> $1
       )
       SELECT user_id AS "userId" FROM spent`,
      [tokenHash, purpose],
    );
    return returnedRows<{ userId: string }>(res)[0]?.userId ?? null;
  }
}
