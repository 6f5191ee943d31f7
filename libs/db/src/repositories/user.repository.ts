import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { UserEntity } from '../entities';

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
