import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateJobs1763800200000 implements MigrationInterface {
  name = 'CreateJobs1763800200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE derivatives (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        image_id uuid NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        spec_hash text NOT NULL,
        spec jsonb NOT NULL,
        storage_key text NOT NULL,
        format text NOT NULL,
        mime_type text NOT NULL,
        width integer NOT NULL,
        height integer NOT NULL,
        bytes bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        CONSTRAINT derivatives_one_per_spec UNIQUE (image_id, spec_hash)
      )`);
    // The job row is the truth; its id is also the BullMQ job id.
    await q.query(`
      CREATE TABLE jobs (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        image_id uuid NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        spec_hash text NOT NULL,
        spec jsonb NOT NULL,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'active', 'succeeded', 'failed', 'canceled')),
        progress integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        cached boolean NOT NULL DEFAULT false,
        derivative_id uuid REFERENCES derivatives(id) ON DELETE SET NULL,
        error_code text,
        error_message text,
        idempotency_key text,
        request_hash text,
        webhook_url text,
        request_id text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    // One image + one spec hash = at most one render in flight, however many requests race.
    await q.query(`CREATE UNIQUE INDEX jobs_one_render_in_flight ON jobs (image_id, spec_hash) WHERE status IN ('queued', 'active')`);
    await q.query(`CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await q.query(`CREATE INDEX jobs_user_created_idx ON jobs (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX jobs_in_flight_idx ON jobs (created_at) WHERE status IN ('queued', 'active')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE jobs`);
    await q.query(`DROP TABLE derivatives`);
  }
}
