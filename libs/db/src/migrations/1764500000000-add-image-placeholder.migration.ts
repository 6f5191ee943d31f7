import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The placeholders a client shows while an image loads (ThumbHash, BlurHash, dominant
 * colour), computed with the listing thumbnail and written with it. One jsonb column:
 * the three are always read and written together and never queried by.
 *
 * Images thumbnailed before this migration have none (null) until they are thumbnailed
 * again; nothing re-renders them on its own.
 */
export class AddImagePlaceholder1764500000000 implements MigrationInterface {
  name = 'AddImagePlaceholder1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE images ADD COLUMN placeholder jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE images DROP COLUMN placeholder`);
  }
}
