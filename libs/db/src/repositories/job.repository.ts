import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ReadCache } from '../cache/read-cache.service';
import { JobEntity, JobStatus } from '../entities';
import { returnedRows } from '../sql.util';

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

const COLUMNS = `id, user_id AS "userId", image_id AS "imageId", spec_hash AS "specHash", spec, status, progress, attempts, cached,
  derivative_id AS "derivativeId", error_code AS "errorCode", error_message AS "errorMessage",
  idempotency_key AS "idempotencyKey", request_hash AS "requestHash", webhook_urls AS "webhookUrls", request_id AS "requestId",
  created_at AS "createdAt", dispatched_at AS "dispatchedAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

/** First key of the per-user advisory lock that serialises dispatching ("PMDP"); the second is hashtext(user id). */
/** An enabled webhook endpoint of `user` subscribed to the event type `type` (SQL expressions). */
const SUBSCRIBED = (user: string, type: string) =>
  `SELECT 1 FROM webhook_endpoints e WHERE e.user_id = ${user} AND e.enabled AND ${type}::text = ANY(e.events)`;

/**
 * "Nobody is to be told of event `type` about this job": no webhookUrl and no subscribed
 * endpoint, decided in the same statement as the state change. A final state that nobody
 * watches needs no outbox message, so it is written in one round trip instead of a
 * transaction (JobStateRecorder); when `type` is NULL the condition is always true.
 */
const UNWATCHED = (type: string) => `(${type}::text IS NULL OR (cardinality(jobs.webhook_urls) = 0 AND NOT EXISTS (${SUBSCRIBED('jobs.user_id', type)})))`;

const DISPATCH_LOCK_NAMESPACE = 0x50_4d_44_50;

const JOB_ID = /^[0-9a-f-]{36}$/i;

/** A job's webhook URLs as a text[] parameter: none, or the one its request gave. */
const urlsOf = (job: NewJob): string[] => (job.webhookUrl ? [job.webhookUrl] : []);

/** JSON keeps dates as strings; a cached job gets them back as Dates. */
function reviveJob(row: JobEntity): JobEntity {
  for (const k of ['createdAt', 'startedAt', 'finishedAt'] as const) if (row[k]) row[k] = new Date(row[k]!);
  row.webhookUrls ??= []; // an entry cached before the column was a list
  return row;
}

/**
 * Transformation jobs; every state change is a single conditional UPDATE, so racing writers cannot regress a job.
 *
 * Every method that changes a row ends with `jobWritten`, which invalidates the read cache
 * (ReadCache): at once on the repository's own connection, or when the caller's transaction
 * ends if the write ran through its `em`. Inserts need none (absence is never cached).
 */
@Injectable()
export class JobRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly cache: ReadCache,
  ) {}

  /** Invalidates the cached job after a write (deferred to commit when `em` is in a transaction). */
  jobWritten(id: string, em?: EntityManager): Promise<void> {
    return this.cache.afterWrite('job', [id], em);
  }

  /**
   * Inserts a queued job, unless one for the same image and spec is already in
   * flight, its derivative exists (a render that finished since the caller looked),
   * or the idempotency key was used: then returns null and inserts nothing.
   */
  async insertQueued(job: NewJob): Promise<JobEntity | null> {
    const rows = await this.ds.query(
      `INSERT INTO jobs (id, user_id, image_id, spec_hash, spec, idempotency_key, request_hash, webhook_urls, request_id)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
        WHERE NOT EXISTS (SELECT 1 FROM derivatives WHERE image_id = $3 AND spec_hash = $4)
       ON CONFLICT DO NOTHING
       RETURNING ${COLUMNS}`,
      [job.id, job.userId, job.imageId, job.specHash, JSON.stringify(job.spec), job.idempotencyKey ?? null, job.requestHash ?? null, urlsOf(job), job.requestId ?? null],
    );
    return rows[0] ?? null;
  }

  /**
   * A job that is already succeeded because its derivative exists (a cache hit). With
   * `unwatched`, only when nobody is to be told of that event (see UNWATCHED).
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

  async findById(id: string): Promise<JobEntity | null> {
    if (!JOB_ID.test(id)) return null;
    const rows = await this.ds.query(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** The owner's job, through the read cache (another user's cached row is still null). */
  async findOwned(userId: string, id: string): Promise<JobEntity | null> {
    if (!JOB_ID.test(id)) return null;
    const job = await this.cache.readThrough('job', id, () => this.findById(id), reviveJob);
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

  /** queued|active → active, counting the attempt. Null when the job is gone, final, or canceled. */
  async markActive(id: string): Promise<JobEntity | null> {
    const res = await this.ds.query(
      `UPDATE jobs SET status = 'active', attempts = attempts + 1, started_at = coalesce(started_at, now())
        WHERE id = $1 AND status IN ('queued', 'active') RETURNING ${COLUMNS}`,
      [id],
    );
    await this.jobWritten(id);
    return returnedRows<JobEntity>(res)[0] ?? null;
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.ds.query(`UPDATE jobs SET progress = $2 WHERE id = $1 AND status = 'active'`, [id, progress]);
    await this.jobWritten(id);
  }

  /**
   * queued|active → succeeded; the updated row, or null when the job was already final
   * (or, with `unwatched`, when someone is to be told of that event: see UNWATCHED).
   */
  async markSucceeded(id: string, derivativeId: string, em: EntityManager = this.ds.manager, unwatched?: string): Promise<JobEntity | null> {
    const res = await em.query(
      `UPDATE jobs SET status = 'succeeded', progress = 100, derivative_id = $2, finished_at = now(), error_code = NULL, error_message = NULL
        WHERE id = $1 AND status IN ('queued', 'active') AND ${UNWATCHED('$3')} RETURNING ${COLUMNS}`,
      [id, derivativeId, unwatched ?? null],
    );
    await this.jobWritten(id, em);
    return returnedRows<JobEntity>(res)[0] ?? null;
  }

  /**
   * queued|active → failed; the updated row, or null when the job was already final
   * (or, with `unwatched`, when someone is to be told of that event: see UNWATCHED).
   */
  async markFailed(id: string, code: string, message: string, em: EntityManager = this.ds.manager, unwatched?: string): Promise<JobEntity | null> {
    const res = await em.query(
      `UPDATE jobs SET status = 'failed', error_code = $2, error_message = $3, finished_at = now()
        WHERE id = $1 AND status IN ('queued', 'active') AND ${UNWATCHED('$4')} RETURNING ${COLUMNS}`,
      [id, code, message.slice(0, 1000), unwatched ?? null],
    );
    await this.jobWritten(id, em);
    return returnedRows<JobEntity>(res)[0] ?? null;
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
    await this.jobWritten(id);
    return returnedRows<JobEntity>(res)[0] ?? null;
  }

  /** Cancels a job that has not started. */
  async cancelQueued(userId: string, id: string): Promise<JobEntity | null> {
    const res = await this.ds.query(
      `UPDATE jobs SET status = 'canceled', finished_at = now() WHERE id = $1 AND user_id = $2 AND status = 'queued' RETURNING ${COLUMNS}`,
      [id, userId],
    );
    await this.jobWritten(id);
    return returnedRows<JobEntity>(res)[0] ?? null;
  }

  /**
   * Dispatched jobs the database says are pending, dispatched more than `olderThanSeconds` ago
   * (for the reconciler: these should be in the queue). Undispatched ones wait for a slot.
   */
  async inFlight(olderThanSeconds: number, limit = 500): Promise<JobEntity[]> {
    return this.ds.query(
      `SELECT ${COLUMNS} FROM jobs WHERE status IN ('queued', 'active') AND dispatched_at < now() - make_interval(secs => $1)
        ORDER BY created_at LIMIT $2`,
      [olderThanSeconds, limit],
    );
  }

  /**
   * Fair scheduling (docs/decisions/008): marks the user's oldest undispatched queued jobs
   * as dispatched, as many as they have free slots (`maxActive` minus their dispatched,
   * unfinished jobs), and returns them oldest first for the caller to enqueue.
   *
   * Callers race (API replicas on submission and cancel, workers when a job finishes), so
   * the count and the update run under a per-user transaction-level advisory lock. They are
   * a statement after the lock, not one statement with it: under READ COMMITTED a statement
   * sees the snapshot taken when it began, so a statement that waited for the lock would
   * count slots without the dispatches of whoever held it just before. The time stamped is
   * taken after the lock (not now(), the transaction's start), so dispatch times follow the
   * order in which jobs were handed out.
   */
  async dispatchNext(userId: string, maxActive: number): Promise<JobEntity[]> {
    // One round trip: the lock and the update run inside dispatch_jobs (migration 1763800500000).
    const dispatched: JobEntity[] = await this.ds.query(`SELECT ${COLUMNS} FROM dispatch_jobs($1, $2, $3)`, [
      userId,
      maxActive,
      DISPATCH_LOCK_NAMESPACE,
    ]);
    await this.cache.afterWrite('job', dispatched.map((j) => j.id));
    return dispatched.sort(
      (a, b) => new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime() || a.id.localeCompare(b.id),
    );
  }

  /** Users with queued jobs that have waited undispatched for more than `olderThanSeconds` (for the reconciler). */
  async usersWithStaleUndispatched(olderThanSeconds: number, limit = 500): Promise<string[]> {
    const rows: Array<{ userId: string }> = await this.ds.query(
      `SELECT DISTINCT user_id AS "userId" FROM jobs
        WHERE status = 'queued' AND dispatched_at IS NULL AND created_at < now() - make_interval(secs => $1)
        LIMIT $2`,
      [olderThanSeconds, limit],
    );
    return rows.map((r) => r.userId);
  }

  /** Queued jobs waiting for one of their user's slots, over all users. */
  async countUndispatched(): Promise<number> {
    const [{ n }] = await this.ds.query(`SELECT count(*)::int AS n FROM jobs WHERE status = 'queued' AND dispatched_at IS NULL`);
    return n;
  }
}
