import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The request id of the API request that caused a webhook message, kept with the message:
 * every attempt sends it as `x-request-id` and the delivery log shows it, including
 * deliveries the reconciler enqueues again and redeliveries, whose queue jobs carry none.
 * Messages written before this migration have none.
 */
export class WebhookMessageRequestId1763801000000 implements MigrationInterface {
  name = 'WebhookMessageRequestId1763801000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_messages ADD COLUMN request_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_messages DROP COLUMN request_id`);
  }
}
