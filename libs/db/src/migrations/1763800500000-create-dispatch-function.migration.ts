import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * dispatch_jobs(user, max_active): the per-user dispatch of docs/decisions/008 as one
 * round trip. It takes the user's transaction-level advisory lock, then marks the oldest
 * waiting jobs up to the free slots. Inside a PL/pgSQL function each statement takes a
 * fresh snapshot (READ COMMITTED), so the count after the lock sees every dispatch
 * committed by whoever held the lock before; as a client-side transaction the same
 * steps cost four round trips (BEGIN, lock, update, COMMIT), on every submission and
 * every finished job.
 */
export class CreateDispatchFunction1763800500000 implements MigrationInterface {
  name = 'CreateDispatchFunction1763800500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION dispatch_jobs(p_user uuid, p_max_active integer, p_lock_namespace integer) RETURNS SETOF jobs
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(p_lock_namespace, hashtext(p_user::text));
        RETURN QUERY
          WITH free AS (
            SELECT greatest(p_max_active - count(*)::int, 0) AS slots FROM jobs
             WHERE user_id = p_user AND status IN ('queued', 'active') AND dispatched_at IS NOT NULL
          ), next AS (
            SELECT id FROM jobs WHERE user_id = p_user AND status = 'queued' AND dispatched_at IS NULL
             ORDER BY created_at, id LIMIT (SELECT slots FROM free)
          ), dispatched AS (
            UPDATE jobs SET dispatched_at = clock_timestamp()
             WHERE id IN (SELECT id FROM next) AND status = 'queued' AND dispatched_at IS NULL
            RETURNING jobs.*
          )
          SELECT * FROM dispatched;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION dispatch_jobs(uuid, integer, integer)`);
  }
}
