import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An account's role: `user`, or `admin` for operators, who may open the queue dashboard
 * (docs/decisions/059). Set only from the command line (`npm run admin -- set-role`).
 */
export class AddUserRole1764760000000 implements MigrationInterface {
  name = 'AddUserRole1764760000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'user' CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN role`);
  }
}
