import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A started job is leased to the run that started it (docs/decisions/016, "one run at a
 * time"). BullMQ's lock says which worker holds a job only while Redis keeps it: when
 * Redis loses its data, or stalls past the lock's duration, the reconciler or BullMQ's
 * stalled check hands the job to a second worker while the first is still rendering it.
 * The lease lives with the row, in PostgreSQL, so it survives that:
 *
 * - `run_token`: the BullMQ lock token of the run holding the job;
 * - `lease_until`: until when that run holds it; the worker renews the leases of the
 *   renders it has in hand (one statement per process every third of the lease) and
 *   releases them when it hands its jobs back at shutdown.
 *
 * `start_job` takes a queued job, an active one whose lease lapsed or was released, or
 * one already held by the same run; an active job held by another live run is `busy`,
 * with the time its lease has left, and the second run waits that long instead of
 * rendering it again.
 */
export class JobRunLease1764640000000 implements MigrationInterface {
  name = 'JobRunLease1764640000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN run_token text`);
    await q.query(`ALTER TABLE jobs ADD COLUMN lease_until timestamptz`);
    await q.query(`DROP FUNCTION start_job(uuid, jsonb, integer)`);
    await q.query(startJob(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION start_job(uuid, jsonb, integer, text, integer)`);
    await q.query(startJob(false));
    await q.query(`ALTER TABLE jobs DROP COLUMN lease_until`);
    await q.query(`ALTER TABLE jobs DROP COLUMN run_token`);
  }
}

/** start_job with the run lease (`leased`) or as migration 1763801100000 made it. */
function startJob(leased: boolean): string {
  const params = leased ? 'p_job uuid, p_caps jsonb, p_lock_namespace integer, p_run text, p_lease_ms integer' : 'p_job uuid, p_caps jsonb, p_lock_namespace integer';
  const lease = leased ? `, run_token = p_run, lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'` : '';
  const free = leased
    ? `AND (status = 'queued' OR run_token IS NULL OR run_token = p_run OR lease_until IS NULL OR lease_until <= clock_timestamp())`
    : `AND status IN ('queued', 'active')`;
  const busy = leased
    ? `SELECT jobs.lease_until INTO v_lease FROM jobs WHERE id = p_job AND status = 'active';
        IF FOUND THEN
          RETURN jsonb_build_object('outcome', 'busy',
            'retryInMs', greatest(0, ceil(extract(epoch FROM (v_lease - clock_timestamp())) * 1000))::bigint);
        END IF;`
    : '';
  return `
      CREATE FUNCTION start_job(${params}) RETURNS jsonb
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_user uuid;
        v_cap integer;
        v_lease timestamptz;
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
        UPDATE jobs SET status = 'active', attempts = attempts + 1, started_at = coalesce(started_at, now())${lease}
         WHERE id = p_job AND status IN ('queued', 'active') ${free}
         RETURNING * INTO j;
        IF NOT FOUND THEN
          ${busy}
          RETURN jsonb_build_object('outcome', 'gone');
        END IF;
        RETURN jsonb_build_object(
          'outcome', 'started',
          'job', to_jsonb(j),
          'image', (SELECT jsonb_build_object('id', i.id, 'userId', i.user_id, 'format', i.format, 'storageKey', i.storage_key)
                      FROM images i WHERE i.id = j.image_id),
          'derivativeId', (SELECT d.id FROM derivatives d WHERE d.image_id = j.image_id AND d.spec_hash = j.spec_hash));
      END $$`;
}
