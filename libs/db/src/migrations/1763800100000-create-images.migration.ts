import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateImages1763800100000 implements MigrationInterface {
  name = 'CreateImages1763800100000';

  async up(q: QueryRunner): Promise<void> {
    // created_at is kept at millisecond precision so list cursors round-trip through JavaScript dates.
    await q.query(`
      CREATE TABLE images (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        filename text NOT NULL,
        format text NOT NULL,
        mime_type text NOT NULL,
        width integer NOT NULL,
        height integer NOT NULL,
        pages integer NOT NULL DEFAULT 1,
        bytes bigint NOT NULL,
        sha256 text NOT NULL,
        exif jsonb,
        gps jsonb,
        storage_key text NOT NULL,
        thumbnail_key text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      )`);
    await q.query(`CREATE INDEX images_user_created_idx ON images (user_id, created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE uploads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        image_id uuid NOT NULL UNIQUE,
        storage_key text NOT NULL,
        filename text NOT NULL,
        content_type text NOT NULL,
        reserved_bytes bigint NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed')),
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX uploads_pending_idx ON uploads (expires_at) WHERE status = 'pending'`);
    // Storage prefixes whose objects must be deleted: written in the same transaction that
    // deletes the rows, removed by the cleanup job once storage confirms. Nothing is orphaned.
    await q.query(`
      CREATE TABLE storage_cleanups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        prefix text NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE storage_cleanups`);
    await q.query(`DROP TABLE uploads`);
    await q.query(`DROP TABLE images`);
  }
}
