import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A render in flight is shared by every request for the same image and spec, and
 * each of those requests may give its own webhookUrl: a job keeps all of them (in
 * the order they came, without repeats) and each is told when the job ends.
 */
export class JobWebhookUrls1763800800000 implements MigrationInterface {
  name = 'JobWebhookUrls1763800800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN webhook_urls text[] NOT NULL DEFAULT '{}'`);
    await q.query(`UPDATE jobs SET webhook_urls = ARRAY[webhook_url] WHERE webhook_url IS NOT NULL`);
    await q.query(`ALTER TABLE jobs DROP COLUMN webhook_url`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN webhook_url text`);
    await q.query(`UPDATE jobs SET webhook_url = webhook_urls[1]`);
    await q.query(`ALTER TABLE jobs DROP COLUMN webhook_urls`);
  }
}
