import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fair scheduling by admission (docs/decisions/008): a job row enters the queue only
 * when it is dispatched, and each user has at most MAX_ACTIVE_JOBS_PER_USER dispatched
 * and unfinished jobs; the rest wait here in creation order.
 */
export class AddJobDispatch1763800400000 implements MigrationInterface {
  name = 'AddJobDispatch1763800400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN dispatched_at timestamptz`);
    // Jobs in flight before this migration were enqueued at submission: they count as dispatched.
    await q.query(`UPDATE jobs SET dispatched_at = created_at WHERE status IN ('queued', 'active')`);
    // A user's waiting jobs, oldest first (the next to dispatch).
    await q.query(
      `CREATE INDEX jobs_undispatched_idx ON jobs (user_id, created_at, id) WHERE status = 'queued' AND dispatched_at IS NULL`,
    );
    // A user's occupied slots.
    await q.query(
      `CREATE INDEX jobs_dispatched_in_flight_idx ON jobs (user_id) WHERE status IN ('queued', 'active') AND dispatched_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_dispatched_in_flight_idx`);
    await q.query(`DROP INDEX jobs_undispatched_idx`);
    await q.query(`ALTER TABLE jobs DROP COLUMN dispatched_at`);
  }
}
