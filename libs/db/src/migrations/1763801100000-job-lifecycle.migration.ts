import { MigrationInterface, QueryRunner } from 'typeorm';
import { CreateDispatchFunction1763800500000 } from './1763800500000-create-dispatch-function.migration';

/**
 * The job engine of docs/decisions/008 (work-conserving fair scheduling) and 016 (one
 * owner of the job lifecycle):
 *
 * - `fair_seq`: the job's virtual round. Every job enters the queue at submission with a
 *   BullMQ priority taken from it, so a free slot never idles while work waits; the
 *   admission cap (`dispatched_at`, `dispatch_jobs`) goes.
 * - `quota_day` / `quota_refunded`: the UTC day whose daily-transform unit the job took
 *   (NULL when it took none: cache hits) and whether it was given back. The refund is
 *   written in the same statement as the transition that earns it, so it happens once.
 * - `start_job`: one round trip to start a job: marks it active, counts the attempt,
 *   applies the optional running cap of the owner's plan, and returns the image and an
 *   existing derivative alongside.
 */
export class JobLifecycle1763801100000 implements MigrationInterface {
  name = 'JobLifecycle1763801100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN fair_seq bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE jobs ADD COLUMN quota_day date`);
    await q.query(`ALTER TABLE jobs ADD COLUMN quota_refunded boolean NOT NULL DEFAULT false`);
    // Units taken before this migration: every job that was not a cache hit took one on its creation day.
    // Jobs that were canceled or failed for Pixmill's own reasons were refunded by the code of the time.
    await q.query(`UPDATE jobs SET quota_day = (created_at AT TIME ZONE 'utc')::date WHERE NOT cached`);
    await q.query(`UPDATE jobs SET quota_refunded = true WHERE NOT cached AND (status = 'canceled' OR error_code = 'internal_error')`);
    // Jobs in flight keep their order: each user's in creation order, users interleaved.
    await q.query(`
      UPDATE jobs SET fair_seq = r.seq FROM (
        SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) AS seq FROM jobs WHERE status IN ('queued', 'active')
      ) r WHERE jobs.id = r.id`);
    // The current round: the lowest round among waiting jobs.
    await q.query(`CREATE INDEX jobs_fair_queued_idx ON jobs (fair_seq) WHERE status = 'queued'`);
    // A user's last round in flight, and their running jobs (the optional cap).
    await q.query(`CREATE INDEX jobs_user_fair_in_flight_idx ON jobs (user_id, fair_seq) WHERE status IN ('queued', 'active')`);

    await q.query(`DROP FUNCTION dispatch_jobs(uuid, integer, integer)`);
    await q.query(`DROP INDEX jobs_dispatched_in_flight_idx`);
    await q.query(`DROP INDEX jobs_undispatched_idx`);
    await q.query(`ALTER TABLE jobs DROP COLUMN dispatched_at`);

    // Inside a PL/pgSQL function every statement takes a fresh snapshot (READ COMMITTED), so the
    // count after the per-user lock sees every start committed by whoever held it before.
    await q.query(`
      CREATE FUNCTION start_job(p_job uuid, p_caps jsonb, p_lock_namespace integer) RETURNS jsonb
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_user uuid;
        v_cap integer;
        j jobs%ROWTYPE;
      BEGIN
        IF p_caps <> '{}'::jsonb THEN
          SELECT jobs.user_id, coalesce((p_caps ->> u.plan)::integer, 0) INTO v_user, v_cap
            FROM jobs JOIN users u ON u.id = jobs.user_id WHERE jobs.id = p_job;
          IF v_cap > 0 THEN
            PERFORM pg_advisory_xact_lock(p_lock_namespace, hashtext(v_user::text));
            IF (SELECT count(*) FROM jobs WHERE user_id = v_user AND status = 'active' AND id <> p_job) >= v_cap THEN
              RETURN jsonb_build_object('outcome', 'over_cap');
            END IF;
          END IF;
        END IF;
        UPDATE jobs SET status = 'active', attempts = attempts + 1, started_at = coalesce(started_at, now())
         WHERE id = p_job AND status IN ('queued', 'active')
         RETURNING * INTO j;
        IF NOT FOUND THEN
          RETURN jsonb_build_object('outcome', 'gone');
        END IF;
        RETURN jsonb_build_object(
          'outcome', 'started',
          'job', to_jsonb(j),
          'image', (SELECT jsonb_build_object('id', i.id, 'userId', i.user_id, 'format', i.format, 'storageKey', i.storage_key)
                      FROM images i WHERE i.id = j.image_id),
          'derivativeId', (SELECT d.id FROM derivatives d WHERE d.image_id = j.image_id AND d.spec_hash = j.spec_hash));
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION start_job(uuid, jsonb, integer)`);
    await q.query(`ALTER TABLE jobs ADD COLUMN dispatched_at timestamptz`);
    await q.query(`UPDATE jobs SET dispatched_at = created_at WHERE status IN ('queued', 'active')`);
    await q.query(`CREATE INDEX jobs_undispatched_idx ON jobs (user_id, created_at, id) WHERE status = 'queued' AND dispatched_at IS NULL`);
    await q.query(`CREATE INDEX jobs_dispatched_in_flight_idx ON jobs (user_id) WHERE status IN ('queued', 'active') AND dispatched_at IS NOT NULL`);
    await q.query(`DROP INDEX jobs_user_fair_in_flight_idx`);
    await q.query(`DROP INDEX jobs_fair_queued_idx`);
    await q.query(`ALTER TABLE jobs DROP COLUMN quota_refunded`);
    await q.query(`ALTER TABLE jobs DROP COLUMN quota_day`);
    await q.query(`ALTER TABLE jobs DROP COLUMN fair_seq`);
    await new CreateDispatchFunction1763800500000().up(q);
  }
}
