import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The W3C trace context (`traceparent`) of the work that wrote a webhook message, when tracing
 * was on: a delivery the reconciler enqueues again (its queue job was lost) still joins the
 * trace of the upload, render or delete that caused it (docs/decisions/062).
 */
export class WebhookMessageTraceparent1764700000000 implements MigrationInterface {
  name = 'WebhookMessageTraceparent1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_messages ADD COLUMN traceparent text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_messages DROP COLUMN traceparent`);
  }
}
