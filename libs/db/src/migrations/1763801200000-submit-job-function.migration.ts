import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * submit_job(): a new render in one round trip (docs/decisions/016), as a PL/pgSQL function so
 * each step after the user row's lock takes a fresh snapshot. As one SQL statement (a CTE) the
 * derivative check would use the snapshot taken before the lock wait: twenty racing requests for
 * one render queue on the user row while the first job renders and succeeds, and those that
 * follow see neither its derivative (old snapshot) nor a job in flight (it has finished), so each
 * would insert and be charged a new job instead of answering a cache hit. The derivative is
 * looked for again after the insert: a render that succeeds while the insert runs takes its job
 * out of the in-flight index, so the insert does not conflict, but its derivative is then visible.
 */
export class SubmitJobFunction1763801200000 implements MigrationInterface {
  name = 'SubmitJobFunction1763801200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION submit_job(p_id uuid, p_user uuid, p_image uuid, p_spec_hash text, p_spec jsonb, p_idempotency_key text,
                                 p_request_hash text, p_webhook_urls text[], p_request_id text, p_daily_limits jsonb) RETURNS jsonb
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_today date := (now() AT TIME ZONE 'utc')::date;
        v_used bigint;
        v_quota bigint;
        v_derivative uuid;
        j jobs%ROWTYPE;
      BEGIN
        -- FOR NO KEY UPDATE: the strength the counter update needs; it does not block the key-share
        -- locks other transactions' inserts take on the user row through their foreign keys.
        SELECT CASE WHEN transforms_day = v_today THEN transforms_today ELSE 0 END, coalesce((p_daily_limits ->> plan)::bigint, 0)
          INTO v_used, v_quota FROM users WHERE id = p_user FOR NO KEY UPDATE;
        IF NOT FOUND THEN
          RETURN jsonb_build_object('outcome', 'no_user');
        END IF;
        SELECT id INTO v_derivative FROM derivatives WHERE image_id = p_image AND spec_hash = p_spec_hash;
        IF FOUND THEN
          RETURN jsonb_build_object('outcome', 'cached', 'derivativeId', v_derivative);
        END IF;
        IF v_used >= v_quota THEN
          RETURN jsonb_build_object('outcome', 'quota_exceeded');
        END IF;
        INSERT INTO jobs (id, user_id, image_id, spec_hash, spec, idempotency_key, request_hash, webhook_urls, request_id, fair_seq, quota_day)
        VALUES (p_id, p_user, p_image, p_spec_hash, p_spec, p_idempotency_key, p_request_hash, p_webhook_urls, p_request_id,
                greatest(coalesce((SELECT max(fair_seq) FROM jobs WHERE user_id = p_user AND status IN ('queued', 'active')), 0) + 1,
                         coalesce((SELECT min(fair_seq) FROM jobs WHERE status = 'queued'), 1)),
                v_today)
        ON CONFLICT DO NOTHING
        RETURNING * INTO j;
        IF NOT FOUND THEN
          RETURN jsonb_build_object('outcome', 'conflict');
        END IF;
        -- A render of the same spec that succeeded while this insert ran (its job left the in-flight
        -- index, so nothing conflicted) left its derivative: this job is not needed, and is a cache hit.
        SELECT id INTO v_derivative FROM derivatives WHERE image_id = p_image AND spec_hash = p_spec_hash;
        IF FOUND THEN
          DELETE FROM jobs WHERE id = p_id;
          RETURN jsonb_build_object('outcome', 'cached', 'derivativeId', v_derivative);
        END IF;
        UPDATE users SET transforms_day = v_today, transforms_today = v_used + 1 WHERE id = p_user;
        RETURN jsonb_build_object('outcome', 'created', 'job', to_jsonb(j));
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION submit_job(uuid, uuid, uuid, text, jsonb, text, text, text[], text, jsonb)`);
  }
}
