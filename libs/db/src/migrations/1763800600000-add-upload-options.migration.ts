import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A presigned direct upload takes the same options as a multipart upload: a
 * `webhookUrl` and `eager` specs, given when the upload starts (validated then)
 * and applied when it completes.
 */
export class AddUploadOptions1763800600000 implements MigrationInterface {
  name = 'AddUploadOptions1763800600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE uploads ADD COLUMN webhook_url text, ADD COLUMN eager jsonb NOT NULL DEFAULT '[]'::jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE uploads DROP COLUMN eager, DROP COLUMN webhook_url`);
  }
}
