import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The reconciler re-enqueues thumbnail jobs Redis lost (docs/decisions/007). A thumbnail
 * whose original does not decode fails the same way on every run, so the worker records
 * that here and the reconciler leaves the image alone; BullMQ's failed job would not do:
 * it is removed after a day (removeOnFail) and is gone with everything else when Redis
 * loses its data.
 *
 * Images whose thumbnail failed before this migration are not marked: the reconciler
 * enqueues each of them once more, and that run marks them.
 */
export class AddImageThumbnailError1763800700000 implements MigrationInterface {
  name = 'AddImageThumbnailError1763800700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE images ADD COLUMN thumbnail_error text`);
    // Images still waiting for a thumbnail, oldest first: a handful at any time, however large the table.
    await q.query(`CREATE INDEX images_thumbnail_missing_idx ON images (created_at) WHERE thumbnail_key IS NULL AND thumbnail_error IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX images_thumbnail_missing_idx`);
    await q.query(`ALTER TABLE images DROP COLUMN thumbnail_error`);
  }
}
