import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ReadCache } from '../cache/read-cache.service';
import { DerivativeEntity, FINAL_JOB_STATUSES, ImageEntity, JobEntity, JobStatus } from '../entities';
import { preparedQuery, returnedRows } from '../sql.util';

export interface NewJob {
  id: string;
  userId: string;
  imageId: string;
  specHash: string;
  spec: Record<string, unknown>;
  idempotencyKey?: string | null;
  requestHash?: string | null;
  webhookUrl?: string | null;
  requestId?: string | null;
}

export interface JobPageQuery {
  limit: number;
  imageId?: string;
  status?: JobStatus;
  after?: { createdAt: Date; id: string };
}

/** What one submission statement found (JobRepository.submit). */
export type SubmitOutcome =
  | { outcome: 'created'; job: JobEntity }
  /** The derivative exists: a cache hit, nothing inserted, nothing charged. */
  | { outcome: 'cached'; derivativeId: string }
  /** The user's daily transform quota is used up; nothing inserted. */
  | { outcome: 'quota_exceeded' }
  /** A job for the same render is in flight, or the idempotency key was used: nothing inserted, nothing charged. */
  | { outcome: 'conflict' }
  | { outcome: 'no_user' };

/** The image fields a render needs. */
export type RenderSource = Pick<ImageEntity, 'id' | 'userId' | 'format' | 'storageKey'>;

/** What starting a job found (JobRepository.start). */
export type StartOutcome =
  | { outcome: 'started'; job: JobEntity; image: RenderSource | null; derivativeId: string | null }
  /** Gone, final or canceled: not started. */
  | { outcome: 'gone' }
  /** Its owner's plan caps running jobs, and that many are running. */
  | { outcome: 'over_cap' }
  /** Active and leased to another run that is still alive: look again in `retryInMs` (when its lease ends). */
  | { outcome: 'busy'; retryInMs: number };

/** A job and the run that holds it (its BullMQ lock token). */
export interface RunLease {
  jobId: string;
  runToken: string;
}

/** Where a scan of jobs in flight stands: created_at as PostgreSQL wrote it (to the microsecond), and id. */
export interface JobScanPosition {
  id: string;
  createdAt: string;
}

/** A job that deleting its image canceled. */
export interface CanceledJob {
  id: string;
  /** Its daily-transform unit went back (it had not started rendering). */
  refunded: boolean;
}

export type NewDerivative = Omit<DerivativeEntity, 'id' | 'createdAt'>;

/** A job row's columns as the entity names them; `t` qualifies them (`jobs.`) where a join needs it. */
const columnsOf = (t = '') => `${t}id, ${t}user_id AS "userId", ${t}image_id AS "imageId", ${t}spec_hash AS "specHash", ${t}spec, ${t}status,
  ${t}progress, ${t}attempts, ${t}cached, ${t}derivative_id AS "derivativeId", ${t}error_code AS "errorCode", ${t}error_message AS "errorMessage",
  ${t}idempotency_key AS "idempotencyKey", ${t}request_hash AS "requestHash", ${t}webhook_urls AS "webhookUrls", ${t}request_id AS "requestId",
  ${t}fair_seq::float8 AS "fairSeq", ${t}quota_day::text AS "quotaDay", ${t}quota_refunded AS "quotaRefunded",
  ${t}created_at AS "createdAt", ${t}started_at AS "startedAt", ${t}finished_at AS "finishedAt"`;
const COLUMNS = columnsOf();

/** A job's derivative as the entity names it (alias `d`), or NULL: read with the job, so its view needs no second read. */
const DERIVATIVE_JSON = `CASE WHEN d.id IS NULL THEN NULL ELSE json_build_object(
  'id', d.id, 'imageId', d.image_id, 'userId', d.user_id, 'specHash', d.spec_hash, 'spec', d.spec, 'storageKey', d.storage_key,
  'format', d.format, 'mimeType', d.mime_type, 'width', d.width, 'height', d.height, 'bytes', d.bytes, 'createdAt', d.created_at) END`;

/**
 * The channel on which a job's final state is announced, at the commit that wrote it. The payload
 * is the job id, or — from the worker's success statement, the common case — a JSON object
 * `{id, job, derivative}` with the final row itself, so a long-poll answers without reading it again.
 */
export const JOB_FINAL_CHANNEL = 'pixmill_job_final';

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; a larger final row is announced by id. */
const MAX_ANNOUNCED_BYTES = 7900;

/** A final-state announcement (a JOB_FINAL_CHANNEL payload): the job id, and the final row when it fitted. */
export function parseJobAnnouncement(payload: string): { id: string; job: JobEntity | null } {
  if (!payload.startsWith('{')) return { id: payload, job: null };
  const { id, job, derivative } = JSON.parse(payload) as { id: string; job: JobEntity; derivative: DerivativeEntity };
  return { id, job: reviveJob({ ...job, derivative }) };
}

/** First key of the per-user advisory lock of the optional running cap ("PMRC"); the second is hashtext(user id). */
const RUNNING_CAP_LOCK_NAMESPACE = 0x50_4d_52_43;

/** An enabled webhook endpoint of `user` subscribed to the event type `type` (SQL expressions). */
const SUBSCRIBED = (user: string, type: string) =>
  `SELECT 1 FROM webhook_endpoints e WHERE e.user_id = ${user} AND e.enabled AND ${type}::text = ANY(e.events)`;

/**
 * "Nobody is to be told of event `type` about this job": no webhookUrl and no subscribed
 * endpoint, decided in the same statement as the state change. A final state that nobody
 * watches needs no outbox message, so it is written in one round trip instead of a
 * transaction (JobLifecycle); when `type` is NULL the condition is always true.
 */
const UNWATCHED = (type: string) => `(${type}::text IS NULL OR (cardinality(jobs.webhook_urls) = 0 AND NOT EXISTS (${SUBSCRIBED('jobs.user_id', type)})))`;

/** Gives back the daily unit of the job rows in CTE `rows` (columns "userId", "quotaDay") whose `refund` is true. */
const REFUND_FROM = (rows: string) => `
  UPDATE users SET transforms_today = greatest(users.transforms_today - r.n, 0)
    FROM (SELECT "userId", "quotaDay"::date AS day, count(*)::int AS n FROM ${rows} WHERE refund GROUP BY 1, 2) r
   WHERE users.id = r."userId" AND users.transforms_day = r.day`;

const JOB_ID = /^[0-9a-f-]{36}$/i;

/** A job's webhook URLs as a text[] parameter: none, or the one its request gave. */
const urlsOf = (job: NewJob): string[] => (job.webhookUrl ? [job.webhookUrl] : []);

/** JSON keeps dates as strings; a cached job (or one read back from JSON) gets them back as Dates. */
export function reviveJob(row: JobEntity): JobEntity {
  for (const k of ['createdAt', 'startedAt', 'finishedAt'] as const) if (row[k]) row[k] = new Date(row[k]!);
  row.webhookUrls ??= []; // an entry cached before the column was a list
  if (row.derivative) row.derivative.createdAt = new Date(row.derivative.createdAt);
  return row;
}

const isFinal = (job: JobEntity) => FINAL_JOB_STATUSES.includes(job.status);

/** A jobs row as PostgreSQL's to_jsonb writes it (column names), as the entity. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function jobFromRow(j: any): JobEntity {
  return reviveJob({
    id: j.id,
    userId: j.user_id,
    imageId: j.image_id,
    specHash: j.spec_hash,
    spec: j.spec,
    status: j.status,
    progress: j.progress,
    attempts: j.attempts,
    cached: j.cached,
    derivativeId: j.derivative_id,
    errorCode: j.error_code,
    errorMessage: j.error_message,
    idempotencyKey: j.idempotency_key,
    requestHash: j.request_hash,
    webhookUrls: j.webhook_urls,
    requestId: j.request_id,
    fairSeq: Number(j.fair_seq),
    quotaDay: j.quota_day,
    quotaRefunded: j.quota_refunded,
    createdAt: j.created_at,
    startedAt: j.started_at,
    finishedAt: j.finished_at,
  });
}

/**
 * Transformation jobs. Only JobLifecycle (libs/jobs) calls the writing methods; each state
 * change is one conditional statement, so racing writers cannot regress a job, and the side
 * effects that belong to a transition (the quota refund, the announcement on
 * JOB_FINAL_CHANNEL) are written by the same statement.
 *
 * The read cache holds final rows only: they never change again, so no transition of a job
 * in flight has to invalidate anything. Deleting finished rows (with their image) does.
 */
@Injectable()
export class JobRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly cache: ReadCache,
  ) {}

  /**
   * One round trip for a new render (submit_job, migration 1763801200000): takes a unit of
   * the user's daily quota (under the user row's lock, so parallel requests cannot overshoot
   * it) and inserts the queued job with its fair-scheduling round, unless the derivative
   * exists (a cache hit), a job for the same render is in flight or the idempotency key was
   * used (nothing is charged then). Every check after the lock sees what committed before it.
   *
   * The round (docs/decisions/008): one past the user's last round in flight, and no earlier
   * than the lowest round still waiting, so a user who has waited nothing goes into the
   * current round and a burst spreads over the rounds after it.
   */
  async submit(job: NewJob, dailyLimitByPlan: Record<string, number>): Promise<SubmitOutcome> {
    const [{ r }] = await preparedQuery<{ r: any }>(
      this.ds,
      'pixmill_job_submit',
      `SELECT submit_job($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) AS r`,
      [
        job.id,
        job.userId,
        job.imageId,
        job.specHash,
        JSON.stringify(job.spec),
        job.idempotencyKey ?? null,
        job.requestHash ?? null,
        urlsOf(job),
        job.requestId ?? null,
        JSON.stringify(dailyLimitByPlan),
      ],
    );
    return r.outcome === 'created' ? { outcome: 'created', job: jobFromRow(r.job) } : r;
  }

  /**
   * A job that is already succeeded because its derivative exists (a cache hit; it takes no
   * quota unit). With `unwatched`, only when nobody is to be told of that event (see UNWATCHED).
   */
  async insertCached(job: NewJob, derivativeId: string, em: EntityManager = this.ds.manager, unwatched?: string): Promise<JobEntity | null> {
    const rows = await em.query(
      `INSERT INTO jobs (id, user_id, image_id, spec_hash, spec, idempotency_key, request_hash, webhook_urls, request_id,
                         status, progress, cached, derivative_id, started_at, finished_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, 'succeeded', 100, true, $10, now(), now()
        WHERE $11::text IS NULL OR (cardinality($8::text[]) = 0 AND NOT EXISTS (${SUBSCRIBED('$2::uuid', '$11')}))
       ON CONFLICT DO NOTHING
       RETURNING ${COLUMNS}`,
      [job.id, job.userId, job.imageId, job.specHash, JSON.stringify(job.spec), job.idempotencyKey ?? null, job.requestHash ?? null, urlsOf(job), job.requestId ?? null, derivativeId, unwatched ?? null],
    );
    return rows[0] ?? null;
  }

  async findInFlight(imageId: string, specHash: string): Promise<JobEntity | null> {
    const rows = await this.ds.query(
      `SELECT ${COLUMNS} FROM jobs WHERE image_id = $1 AND spec_hash = $2 AND status IN ('queued', 'active')`,
      [imageId, specHash],
    );
    return rows[0] ?? null;
  }

  async findByIdempotencyKey(userId: string, key: string): Promise<JobEntity | null> {
    const rows = await this.ds.query(`SELECT ${COLUMNS} FROM jobs WHERE user_id = $1 AND idempotency_key = $2`, [userId, key]);
    return rows[0] ?? null;
  }

  /** The job, with its derivative when it has one (`derivative`). */
  async findById(id: string, em?: EntityManager): Promise<JobEntity | null> {
    if (!JOB_ID.test(id)) return null;
    const text = `SELECT ${columnsOf('jobs.')}, ${DERIVATIVE_JSON} AS derivative FROM jobs LEFT JOIN derivatives d ON d.id = jobs.derivative_id WHERE jobs.id = $1`;
    const rows: JobEntity[] = em ? await em.query(text, [id]) : await preparedQuery(this.ds, 'pixmill_job_by_id', text, [id]);
    return rows[0] ? reviveJob(rows[0]) : null;
  }

  /** The owner's job, through the read cache for final rows (another user's cached row is still null). */
  async findOwned(userId: string, id: string): Promise<JobEntity | null> {
    if (!JOB_ID.test(id)) return null;
    const job = await this.cache.readThrough('job', id, () => this.findById(id), reviveJob, isFinal);
    return job && job.userId === userId ? job : null;
  }

  async list(userId: string, q: JobPageQuery): Promise<{ items: JobEntity[]; hasMore: boolean }> {
    const params: unknown[] = [userId, q.limit + 1];
    const where = ['user_id = $1'];
    if (q.imageId) where.push(`image_id = $${params.push(q.imageId)}`);
    if (q.status) where.push(`status = $${params.push(q.status)}`);
    if (q.after) where.push(`(created_at, id) < ($${params.push(q.after.createdAt)}, $${params.push(q.after.id)})`);
    const rows: JobEntity[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM jobs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $2`,
      params,
    );
    return { items: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
  }

  /**
   * queued|active → active, counting the attempt, in one round trip (start_job, migrations
   * 1763801100000 and 1764640000000), with the image to render and the derivative if one
   * exists already. The job is leased to run `runToken` for `leaseMs`; an active job leased
   * to another run that is still alive is `busy`. `runningCapByPlan` holds the plans whose
   * running jobs are capped (empty: none are).
   */
  async start(id: string, runningCapByPlan: Record<string, number>, runToken: string, leaseMs: number): Promise<StartOutcome> {
    const [{ r }] = await preparedQuery<{ r: any }>(this.ds, 'pixmill_job_start', `SELECT start_job($1, $2, $3, $4, $5) AS r`, [
      id,
      JSON.stringify(runningCapByPlan),
      RUNNING_CAP_LOCK_NAMESPACE,
      runToken,
      leaseMs,
    ]);
    if (r.outcome === 'busy') return { outcome: 'busy', retryInMs: Number(r.retryInMs) };
    if (r.outcome !== 'started') return r;
    const job = jobFromRow(r.job);
    return { outcome: 'started', job, image: r.image, derivativeId: r.derivativeId };
  }

  /** Extends by `leaseMs` from now the leases of the runs still holding their active jobs; how many were extended. */
  async renewLeases(runs: RunLease[], leaseMs: number): Promise<number> {
    if (!runs.length) return 0;
    const rows = await preparedQuery<{ id: string }>(
      this.ds,
      'pixmill_job_renew_leases',
      `UPDATE jobs SET lease_until = clock_timestamp() + $3 * interval '1 millisecond'
        FROM unnest($1::uuid[], $2::text[]) AS r(id, token)
        WHERE jobs.id = r.id AND jobs.run_token = r.token AND jobs.status = 'active' RETURNING jobs.id`,
      [runs.map((r) => r.jobId), runs.map((r) => r.runToken), leaseMs],
    );
    return rows.length;
  }

  /** Ends the leases of these runs now (their jobs were handed back): the next run takes each job at once. */
  async releaseLeases(runs: RunLease[]): Promise<void> {
    if (!runs.length) return;
    await this.ds.query(
      `UPDATE jobs SET lease_until = NULL FROM unnest($1::uuid[], $2::text[]) AS r(id, token)
        WHERE jobs.id = r.id AND jobs.run_token = r.token AND jobs.status = 'active'`,
      [runs.map((r) => r.jobId), runs.map((r) => r.runToken)],
    );
  }

  /**
   * Records the derivative (once per image and spec) and marks the job succeeded, in one
   * statement. The job is marked only if nobody watches job.succeeded (`unwatched`, see
   * UNWATCHED) — otherwise `job` is null and the caller marks it in a transaction with its
   * outbox message. `derivativeId` is null only when another writer's derivative committed
   * while this statement ran (the caller reads it). Throws PostgreSQL's foreign_key_violation
   * when the image is gone.
   */
  async recordSuccess(id: string, d: NewDerivative, unwatched: string): Promise<{ derivativeId: string | null; job: JobEntity | null }> {
    const [row] = await preparedQuery<{ derivativeId: string | null; job: JobEntity | null }>(
      this.ds,
      'pixmill_job_succeed',
      `WITH d_new AS (
         INSERT INTO derivatives (image_id, user_id, spec_hash, spec, storage_key, format, mime_type, width, height, bytes)
         VALUES ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT ON CONSTRAINT derivatives_one_per_spec DO NOTHING RETURNING id),
       d AS (SELECT id FROM d_new UNION ALL SELECT id FROM derivatives WHERE image_id = $2 AND spec_hash = $4 LIMIT 1),
       u AS (
         UPDATE jobs SET status = 'succeeded', progress = 100, derivative_id = (SELECT id FROM d), finished_at = now(),
                         error_code = NULL, error_message = NULL
          WHERE id = $1 AND status IN ('queued', 'active') AND EXISTS (SELECT 1 FROM d) AND ${UNWATCHED('$12')}
         RETURNING ${COLUMNS}),
       payload AS (
         SELECT u.id, json_build_object('id', u.id, 'job', row_to_json(u), 'derivative', json_build_object(
                  'id', (SELECT id FROM d), 'imageId', $2::uuid, 'userId', $3::uuid, 'specHash', $4::text, 'spec', $5::jsonb,
                  'storageKey', $6::text, 'format', $7::text, 'mimeType', $8::text, 'width', $9::int, 'height', $10::int,
                  'bytes', $11::bigint, 'createdAt', now()))::text AS text
           FROM u),
       n AS (SELECT pg_notify('${JOB_FINAL_CHANNEL}', CASE WHEN octet_length(text) <= ${MAX_ANNOUNCED_BYTES} THEN text ELSE id::text END) FROM payload)
       SELECT (SELECT id FROM d) AS "derivativeId", (SELECT row_to_json(u) FROM u) AS job, (SELECT count(*) FROM n) AS announced`,
      [id, d.imageId, d.userId, d.specHash, JSON.stringify(d.spec), d.storageKey, d.format, d.mimeType, d.width, d.height, d.bytes, unwatched],
    );
    return { derivativeId: row.derivativeId ?? null, job: row.job ? reviveJob(row.job) : null };
  }

  /**
   * queued|active → succeeded; the updated row, or null when the job was already final
   * (or, with `unwatched`, when someone is to be told of that event: see UNWATCHED).
   */
  async markSucceeded(id: string, derivativeId: string, em: EntityManager = this.ds.manager, unwatched?: string): Promise<JobEntity | null> {
    const res = await em.query(
      `WITH u AS (
         UPDATE jobs SET status = 'succeeded', progress = 100, derivative_id = $2, finished_at = now(), error_code = NULL, error_message = NULL
          WHERE id = $1 AND status IN ('queued', 'active') AND ${UNWATCHED('$3')} RETURNING ${COLUMNS}),
       n AS (SELECT pg_notify('${JOB_FINAL_CHANNEL}', u.id::text) FROM u)
       SELECT u.*, (SELECT count(*) FROM n) AS announced FROM u`,
      [id, derivativeId, unwatched ?? null],
    );
    return this.withoutAnnounced(res);
  }

  /**
   * queued|active → failed; the updated row, or null when the job was already final (or, with
   * `unwatched`, when someone is to be told of that event: see UNWATCHED). With `refund` (a
   * failure of Pixmill's own), the job's daily unit goes back in the same statement: a job
   * leaves queued|active once, so it is refunded once.
   */
  async markFailed(
    id: string,
    failure: { code: string; message: string; refund: boolean },
    em: EntityManager = this.ds.manager,
    unwatched?: string,
  ): Promise<JobEntity | null> {
    const res = await em.query(
      `WITH f AS (
         UPDATE jobs SET status = 'failed', error_code = $2, error_message = $3, finished_at = now(),
                         quota_refunded = $4 AND quota_day IS NOT NULL
          WHERE id = $1 AND status IN ('queued', 'active') AND ${UNWATCHED('$5')}
         RETURNING ${COLUMNS}, quota_refunded AS refund),
       r AS (${REFUND_FROM('f')}),
       n AS (SELECT pg_notify('${JOB_FINAL_CHANNEL}', f.id::text) FROM f)
       SELECT f.*, (SELECT count(*) FROM n) AS announced FROM f`,
      [id, failure.code, failure.message.slice(0, 1000), failure.refund, unwatched ?? null],
    );
    return this.withoutAnnounced(res, ['refund']);
  }

  /**
   * Adds a webhookUrl to a job still in flight (a request that joins its render), unless
   * it is there already or the job has `max` of them. The row, or null when the job is no
   * longer in flight or is full (the caller reads it again to tell which).
   */
  async addWebhookUrl(id: string, webhookUrl: string, max: number): Promise<JobEntity | null> {
    const res = await this.ds.query(
      `UPDATE jobs SET webhook_urls = CASE WHEN $2 = ANY(webhook_urls) THEN webhook_urls ELSE array_append(webhook_urls, $2) END
        WHERE id = $1 AND status IN ('queued', 'active') AND ($2 = ANY(webhook_urls) OR cardinality(webhook_urls) < $3)
        RETURNING ${COLUMNS}`,
      [id, webhookUrl, max],
    );
    return returnedRows<JobEntity>(res)[0] ?? null;
  }

  /** Cancels the user's job if it has not started, giving its daily unit back in the same statement. */
  async cancelQueued(userId: string, id: string): Promise<JobEntity | null> {
    if (!JOB_ID.test(id)) return null;
    const res = await this.ds.query(
      `WITH c AS (
         UPDATE jobs SET status = 'canceled', finished_at = now(), quota_refunded = quota_day IS NOT NULL
          WHERE id = $1 AND user_id = $2 AND status = 'queued'
         RETURNING ${COLUMNS}, quota_refunded AS refund),
       r AS (${REFUND_FROM('c')}),
       n AS (SELECT pg_notify('${JOB_FINAL_CHANNEL}', c.id::text) FROM c)
       SELECT c.*, (SELECT count(*) FROM n) AS announced FROM c`,
      [id, userId],
    );
    return this.withoutAnnounced(res, ['refund']);
  }

  /**
   * Inside the transaction that deletes image `imageId`: its pending jobs are canceled and
   * kept (their image_id becomes NULL with the image), those that never started get their
   * daily units back, and its finished jobs go.
   */
  async cancelForImage(userId: string, imageId: string, em: EntityManager): Promise<CanceledJob[]> {
    const canceled: CanceledJob[] = await em.query(
      `WITH c AS (
         UPDATE jobs SET status = 'canceled', finished_at = now(), quota_refunded = quota_day IS NOT NULL AND started_at IS NULL
          WHERE image_id = $1 AND user_id = $2 AND status IN ('queued', 'active')
         RETURNING id, user_id AS "userId", quota_day::text AS "quotaDay", quota_refunded AS refund),
       r AS (${REFUND_FROM('c')}),
       n AS (SELECT pg_notify('${JOB_FINAL_CHANNEL}', c.id::text) FROM c)
       SELECT c.id, c.refund AS refunded, (SELECT count(*) FROM n) AS announced FROM c`,
      [imageId, userId],
    );
    // Finished jobs go with the image; canceled ones stay, and their image_id becomes NULL with it:
    // the cached rows of both are invalidated once the deletion commits.
    const changed: Array<{ id: string }> = await em.query(
      `WITH gone AS (DELETE FROM jobs WHERE image_id = $1 AND user_id = $2 AND status IN ('succeeded', 'failed') RETURNING id)
       SELECT id FROM gone UNION ALL SELECT id FROM jobs WHERE image_id = $1 AND user_id = $2 AND status = 'canceled'`,
      [imageId, userId],
    );
    await this.cache.afterWrite('job', changed.map((j) => j.id), em);
    return canceled.map(({ id, refunded }) => ({ id, refunded }));
  }

  /**
   * Inside the transaction that deletes an account: its jobs in flight are canceled (and
   * announced, so long-polls wake) before the account's rows go with it. No refund: the
   * quota goes with the account. The cached rows of every job of the account are
   * invalidated once the deletion commits.
   */
  async cancelForAccount(userId: string, em: EntityManager): Promise<CanceledJob[]> {
    const res = await em.query(
      `WITH c AS (
         UPDATE jobs SET status = 'canceled', finished_at = now()
          WHERE user_id = $1 AND status IN ('queued', 'active')
         RETURNING id),
       n AS (SELECT pg_notify('${JOB_FINAL_CHANNEL}', c.id::text) FROM c)
       SELECT c.id, (SELECT count(*) FROM n) AS announced FROM c`,
      [userId],
    );
    const canceled = res as Array<{ id: string }>;
    const all: Array<{ id: string }> = await em.query(`SELECT id FROM jobs WHERE user_id = $1`, [userId]);
    await this.cache.afterWrite('job', all.map((j) => j.id), em);
    return canceled.map(({ id }) => ({ id, refunded: false }));
  }

  /**
   * A page of the jobs the database says are pending, created more than `olderThanSeconds` ago
   * (for the reconciler: these should be in the queue), oldest first, after `after` when given.
   * Every waiting job is in flight (docs/decisions/008), so a backlog is normal: the reconciler
   * pages on from where its last pass ended, or rows behind the first page would never be looked at.
   */
  async inFlight(olderThanSeconds: number, limit = 500, after?: JobScanPosition): Promise<Array<JobEntity & { scanAt: string }>> {
    return this.ds.query(
      `SELECT ${COLUMNS}, created_at::text AS "scanAt" FROM jobs
        WHERE status IN ('queued', 'active') AND created_at < now() - make_interval(secs => $1)
          AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
        ORDER BY created_at, id LIMIT $2`,
      [olderThanSeconds, limit, after?.createdAt ?? null, after?.id ?? null],
    );
  }

  /** The rows a CTE statement returned, without the helper columns it added. */
  private withoutAnnounced(res: unknown, extra: string[] = []): JobEntity | null {
    const row = returnedRows<JobEntity & Record<string, unknown>>(res)[0];
    if (!row) return null;
    delete row.announced;
    for (const k of extra) delete row[k];
    return row;
  }
}
