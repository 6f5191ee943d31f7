import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { RefreshTokenEntity } from '../entities';
import { returnedRows } from '../sql.util';

export type RefreshUseResult =
  | { kind: 'rotated'; token: RefreshTokenEntity }
  | { kind: 'reused'; familyId: string }
  | { kind: 'invalid' };

@Injectable()
export class RefreshTokenRepository {
  constructor(private readonly ds: DataSource) {}

  async insert(row: Pick<RefreshTokenEntity, 'userId' | 'familyId' | 'tokenHash' | 'expiresAt'>): Promise<void> {
    await this.ds.query(
      `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
      [row.userId, row.familyId, row.tokenHash, row.expiresAt],
    );
  }

  /**
   * Marks a live token used, atomically: of two concurrent refreshes with one
   * token exactly one wins; the other sees a spent token, which is reuse.
   */
  async consume(tokenHash: string): Promise<RefreshUseResult> {
    const won = await this.ds.query(
      `UPDATE refresh_tokens SET used_at = now()
        WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
        RETURNING id, user_id AS "userId", family_id AS "familyId", expires_at AS "expiresAt"`,
      [tokenHash],
    );
    const row = returnedRows<RefreshTokenEntity>(won)[0];
    if (row) return { kind: 'rotated', token: row };
    const existing = await this.ds.query(
      `SELECT family_id AS "familyId", used_at AS "usedAt", revoked_at AS "revokedAt" FROM refresh_tokens WHERE token_hash = $1`,
      [tokenHash],
    );
    if (existing.length && (existing[0].usedAt || existing[0].revokedAt)) {
      return { kind: 'reused', familyId: existing[0].familyId };
    }
    return { kind: 'invalid' };
  }

  async findLive(tokenHash: string): Promise<RefreshTokenEntity | null> {
    const rows = await this.ds.query(
      `SELECT id, user_id AS "userId", family_id AS "familyId" FROM refresh_tokens
        WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.ds.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, [
      familyId,
    ]);
  }

  /** Revokes every session of the account (all its refresh-token families): after a password reset or change. */
  async revokeAllOfUser(userId: string, em: EntityManager = this.ds.manager): Promise<void> {
    await em.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
  }
}
