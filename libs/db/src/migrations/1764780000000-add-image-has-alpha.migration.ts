import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether an image has an alpha channel, as the upload probe found it: `format=auto` on a
 * public URL picks PNG for such an image and JPEG for an opaque one when the browser takes
 * neither AVIF nor WebP (SPEC §8).
 *
 * Nullable: images stored before this migration were not probed for it and stay null,
 * which keeps the earlier rule (JPEG for a JPEG input, PNG for any other). Nothing
 * backfills them; a backfill would have to read every original again.
 */
export class AddImageHasAlpha1764780000000 implements MigrationInterface {
  name = 'AddImageHasAlpha1764780000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE images ADD COLUMN has_alpha boolean`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE images DROP COLUMN has_alpha`);
  }
}
