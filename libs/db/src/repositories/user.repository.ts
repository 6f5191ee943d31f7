import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { ReadCache } from '../cache/read-cache.service';
import { UserEntity, UserRole } from '../entities';
import { returnedRows } from '../sql.util';

export interface WebhookSecrets {
  secret: string;
  /** Set only while the previous secret still signs (until `previousExpiresAt`). */
  previousSecret: string | null;
  previousExpiresAt: Date | null;
}

/** A previous secret past its expiry reads as none. */
const SECRET_COLUMNS = `webhook_secret AS "secret",
  CASE WHEN webhook_secret_previous_expires_at > now() THEN webhook_secret_previous END AS "previousSecret",
  CASE WHEN webhook_secret_previous_expires_at > now() THEN webhook_secret_previous_expires_at END AS "previousExpiresAt"`;

@Injectable()
export class UserRepository {
  private readonly repo: Repository<UserEntity>;

  constructor(
    private readonly ds: DataSource,
    private readonly cache: ReadCache,
  ) {
    this.repo = ds.getRepository(UserEntity);
  }

  /** Inserts a user; returns null when the email is taken (unique index on lower(email)). */
  async create(email: string, passwordHash: string): Promise<UserEntity | null> {
    const rows: UserEntity[] = await this.ds.query(
      `INSERT INTO users (email, password_hash) VALUES ($1, $2)
       ON CONFLICT ((lower(email))) DO NOTHING
       RETURNING id`,
      [email, passwordHash],
    );
    return rows.length ? this.findById(rows[0].id) : null;
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.repo.findOneBy({ id });
  }

  async exists(id: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(`SELECT 1 FROM users WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.repo.createQueryBuilder('u').where('lower(u.email) = lower(:email)', { email }).getOne();
  }

  /**
   * Reserves `bytes` of the user's storage quota in one statement, so parallel
   * uploads cannot overshoot it. False when the quota would be exceeded.
   */
  async reserveStorage(userId: string, bytes: number, quotaBytes: number, em: EntityManager = this.ds.manager): Promise<boolean> {
    const res = await em.query(
      `UPDATE users SET storage_bytes = storage_bytes + $2 WHERE id = $1 AND storage_bytes + $2 <= $3 RETURNING id`,
      [userId, bytes, quotaBytes],
    );
    return returnedRows(res).length > 0;
  }

  /**
   * Locks the user row for the caller's transaction with the strength its counter updates take
   * (FOR NO KEY UPDATE): a transaction that will update it after other locks takes it first, in
   * the order a job submission does (user, then image).
   */
  async lockForUpdate(userId: string, em: EntityManager): Promise<void> {
    await em.query(`SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, [userId]);
  }

  /** Gives back reserved or freed bytes (never below zero). */
  async releaseStorage(userId: string, bytes: number, em: EntityManager = this.ds.manager): Promise<void> {
    if (bytes === 0) return;
    await em.query(`UPDATE users SET storage_bytes = greatest(storage_bytes - $2, 0) WHERE id = $1`, [userId, bytes]);
  }

  /**
   * The account's webhook secrets: the current one (created on first use from
   * `candidate`) and, within 24 h of a rotation, the previous one.
   */
  async webhookSecrets(userId: string, candidate: string): Promise<WebhookSecrets | null> {
    const res = await this.ds.query(
      `UPDATE users SET webhook_secret = coalesce(webhook_secret, $2) WHERE id = $1
       RETURNING ${SECRET_COLUMNS}`,
      [userId, candidate],
    );
    return returnedRows<WebhookSecrets>(res)[0] ?? null;
  }

  /** Replaces the current secret with `next`; the old one keeps signing alongside for `overlapSeconds`. */
  async rotateWebhookSecret(userId: string, next: string, overlapSeconds: number): Promise<WebhookSecrets | null> {
    const res = await this.ds.query(
      `UPDATE users SET webhook_secret_previous = webhook_secret,
                        webhook_secret_previous_expires_at = CASE WHEN webhook_secret IS NULL THEN NULL ELSE now() + make_interval(secs => $3) END,
                        webhook_secret = $2
        WHERE id = $1
       RETURNING ${SECRET_COLUMNS}`,
      [userId, next, overlapSeconds],
    );
    return returnedRows<WebhookSecrets>(res)[0] ?? null;
  }

  /** Records the address as verified (the first time only); false when the account is gone. */
  async markEmailVerified(userId: string, em: EntityManager = this.ds.manager): Promise<boolean> {
    const res = await em.query(
      `UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1 RETURNING id`,
      [userId],
    );
    return returnedRows(res).length > 0;
  }

  /** Whether the account's address is verified; null when there is no such account. */
  async isEmailVerified(userId: string): Promise<boolean | null> {
    const rows: Array<{ verified: boolean }> = await this.ds.query(
      `SELECT email_verified_at IS NOT NULL AS verified FROM users WHERE id = $1`,
      [userId],
    );
    return rows.length ? rows[0].verified : null;
  }

  /**
   * Locks the row for the deletion of the account (FOR UPDATE, so it waits for, and then
   * holds off, job submissions and uploads, which lock it FOR NO KEY UPDATE); false when gone.
   */
  async lockForDeletion(userId: string, em: EntityManager): Promise<boolean> {
    const rows: unknown[] = await em.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [userId]);
    return rows.length > 0;
  }

  /**
   * Deletes the account row: every row of the account goes with it (its foreign keys
   * cascade: images' derivatives, jobs, webhooks, presets, URL and API keys, tokens). The
   * cached rows by account (URL keys, public settings, presets) are invalidated after the commit.
   */
  async deleteAccount(userId: string, em: EntityManager): Promise<boolean> {
    const presets: Array<{ name: string }> = await em.query(`SELECT name FROM presets WHERE user_id = $1`, [userId]);
    const res = await em.query(`DELETE FROM users WHERE id = $1 RETURNING id`, [userId]);
    await this.cache.afterWrite('url-keys', [userId], em);
    await this.cache.afterWrite('public-settings', [userId], em);
    await this.cache.afterWrite('preset', presets.map((p) => `${userId}:${p.name}`), em);
    return returnedRows(res).length > 0;
  }

  async setPasswordHash(userId: string, passwordHash: string, em: EntityManager = this.ds.manager): Promise<void> {
    await em.query(`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, [userId, passwordHash]);
  }

  setPlan(email: string, plan: UserEntity['plan']): Promise<boolean> {
    return this.updateByEmail(email, { plan });
  }

  setRole(email: string, role: UserRole): Promise<boolean> {
    return this.updateByEmail(email, { role });
  }

  /** The account's role; null when there is no such account. Read on every dashboard request, so a demotion counts at once. */
  async roleOf(userId: string): Promise<UserRole | null> {
    const rows: Array<{ role: UserRole }> = await this.ds.query(`SELECT role FROM users WHERE id = $1`, [userId]);
    return rows.length ? rows[0].role : null;
  }

  /** The command line's account changes (plan, role), by email in any case; false when there is no such account. */
  private async updateByEmail(email: string, set: Partial<Pick<UserEntity, 'plan' | 'role'>>): Promise<boolean> {
    const res = await this.repo.createQueryBuilder().update().set(set).where('lower(email) = lower(:email)', { email }).execute();
    return (res.affected ?? 0) > 0;
  }
}
