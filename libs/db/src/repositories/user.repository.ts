import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { UserEntity } from '../entities';
import { returnedRows } from '../sql.util';

@Injectable()
export class UserRepository {
  private readonly repo: Repository<UserEntity>;

  constructor(private readonly ds: DataSource) {
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

  /** Gives back reserved or freed bytes (never below zero). */
  async releaseStorage(userId: string, bytes: number, em: EntityManager = this.ds.manager): Promise<void> {
    if (bytes === 0) return;
    await em.query(`UPDATE users SET storage_bytes = greatest(storage_bytes - $2, 0) WHERE id = $1`, [userId, bytes]);
  }

  async setPlan(email: string, plan: UserEntity['plan']): Promise<boolean> {
    const res = await this.repo
      .createQueryBuilder()
      .update()
      .set({ plan })
      .where('lower(email) = lower(:email)', { email })
      .execute();
    return (res.affected ?? 0) > 0;
  }
}
