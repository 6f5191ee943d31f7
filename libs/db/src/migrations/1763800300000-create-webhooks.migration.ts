import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateWebhooks1763800300000 implements MigrationInterface {
  name = 'CreateWebhooks1763800300000';

  async up(q: QueryRunner): Promise<void> {
    // The account secret signs messages sent to a job's or an upload's own webhookUrl.
    // After a rotation the previous secret keeps signing (alongside) until it expires.
    await q.query(`
      ALTER TABLE users
        ADD COLUMN webhook_secret text,
        ADD COLUMN webhook_secret_previous text,
        ADD COLUMN webhook_secret_previous_expires_at timestamptz`);
    // The upload's webhookUrl receives its image.ready; eager jobs carry it on their own rows.
    await q.query(`ALTER TABLE images ADD COLUMN webhook_url text`);
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        url text NOT NULL,
        events text[] NOT NULL,
        secret text NOT NULL,
        description text,
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      )`);
    await q.query(`CREATE INDEX webhook_endpoints_user_idx ON webhook_endpoints (user_id, created_at DESC, id DESC)`);
    // The outbox: a message is written in the same transaction as the state change it reports,
    // its body frozen as sent (text, not jsonb, so every retry carries the same bytes).
    await q.query(`
      CREATE TABLE webhook_messages (
        id text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        type text NOT NULL,
        body text NOT NULL,
        job_id uuid,
        image_id uuid,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      )`);
    // One delivery per (message, target); no foreign key to jobs or images, whose rows may go
    // while the delivery log stays.
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        message_id text NOT NULL REFERENCES webhook_messages(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        target text NOT NULL CHECK (target IN ('url', 'endpoint')),
        endpoint_id uuid REFERENCES webhook_endpoints(id) ON DELETE SET NULL,
        url text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        last_error text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_user_idx ON webhook_deliveries (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id) WHERE endpoint_id IS NOT NULL`);
    await q.query(`CREATE INDEX webhook_deliveries_message_idx ON webhook_deliveries (message_id)`);
    await q.query(`CREATE INDEX webhook_messages_job_idx ON webhook_messages (job_id) WHERE job_id IS NOT NULL`);
    await q.query(`CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`
      CREATE TABLE webhook_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        attempted_at timestamptz NOT NULL,
        status_code integer,
        duration_ms integer NOT NULL,
        error text,
        response_snippet text
      )`);
    await q.query(`CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_attempts`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhook_messages`);
    await q.query(`DROP TABLE webhook_endpoints`);
    await q.query(`ALTER TABLE images DROP COLUMN webhook_url`);
    await q.query(`ALTER TABLE users DROP COLUMN webhook_secret, DROP COLUMN webhook_secret_previous, DROP COLUMN webhook_secret_previous_expires_at`);
  }
}
