import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signing keys of public image URLs (SPEC §8). A key must be read back to check an
 * HMAC, so it is stored encrypted (AES-256-GCM), not hashed (docs/decisions/017).
 * `expires_at` is null for the current key; a rotation gives the previous ones 24 h.
 */
export class CreateUrlKeys1764100000000 implements MigrationInterface {
  name = 'CreateUrlKeys1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE url_keys (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key_ciphertext text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz
      )`);
    await q.query(`CREATE INDEX url_keys_user_idx ON url_keys (user_id, created_at)`);
    // At most one current key per account, however many rotations race.
    await q.query(`CREATE UNIQUE INDEX url_keys_one_current_idx ON url_keys (user_id) WHERE expires_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE url_keys`);
  }
}
