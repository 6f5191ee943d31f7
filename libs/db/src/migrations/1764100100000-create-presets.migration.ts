import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Named transformation specs per account (SPEC §8), and the account setting that
 * limits its public /i/ URLs to them.
 */
export class CreatePresets1764100100000 implements MigrationInterface {
  name = 'CreatePresets1764100100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE presets (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name text NOT NULL CHECK (name ~ '^[a-z0-9-]{1,64}$'),
        spec jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, name)
      )`);
    await q.query(`ALTER TABLE users ADD COLUMN public_urls text NOT NULL DEFAULT 'any' CHECK (public_urls IN ('any', 'presets-only'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN public_urls`);
    await q.query(`DROP TABLE presets`);
  }
}
