import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deleting an image cancels its pending jobs (SPEC §3) instead of deleting them:
 * a client polling such a job sees `canceled`, not 404. The job rows outlive the
 * image, so their image_id becomes NULL when it goes; finished jobs are deleted
 * with the image as before (ImageRepository.deleteOwned).
 */
export class KeepCanceledJobsOfDeletedImages1763800900000 implements MigrationInterface {
  name = 'KeepCanceledJobsOfDeletedImages1763800900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ALTER COLUMN image_id DROP NOT NULL`);
    await q.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_image_id_fkey`);
    await q.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_image_id_fkey FOREIGN KEY (image_id) REFERENCES images(id) ON DELETE SET NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM jobs WHERE image_id IS NULL`);
    await q.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_image_id_fkey`);
    await q.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_image_id_fkey FOREIGN KEY (image_id) REFERENCES images(id) ON DELETE CASCADE`);
    await q.query(`ALTER TABLE jobs ALTER COLUMN image_id SET NOT NULL`);
  }
}
