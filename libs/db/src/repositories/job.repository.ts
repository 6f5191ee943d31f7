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
  idempotency_key AS "idempotencyKey", request_hash AS "requestHash", webhook_url AS "webhookUrl", request_id AS "requestId",
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

const JOB_ID = /^[0-9a-f-]{36}$/i;

/** JSON keeps dates as strings; a cached job gets them back as Dates. */
function reviveJob(row: JobEntity): JobEntity {
  for (const k of ['createdAt', 'startedAt', 'finishedAt'] as const) if (row[k]) row[k] = new Date(row[k]!);
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
   * flight (or the idempotency key was used): then returns null and inserts nothing.
   */
  async insertQueued(job: NewJob): Promise<JobEntity | null> {
    const rows = await this.ds.query(
      `INSERT INTO jobs (id, user_id, image_id, spec_hash, spec, idempotency_key, request_hash, webhook_url, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT DO NOTHING
       RETURNING ${COLUMNS}`,
      [job.id, job.userId, job.imageId, job.specHash, JSON.stringify(job.spec), job.idempotencyKey ?? null, job.requestHash ?? null, job.webhookUrl ?? null, job.requestId ?? null],
    );
    return rows[0] ?? null;
  }

  /** A job that is already succeeded because its derivative exists (a cache hit). */
  async insertCached(job: NewJob, derivativeId: string): Promise<JobEntity | null> {
    const rows = await this.ds.query(
      `INSERT INTO jobs (id, user_id, image_id, spec_hash, spec, idempotency_key, request_hash, webhook_url, request_id,
                         status, progress, cached, derivative_id, started_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'succeeded', 100, true, $10, now(), now())
       ON CONFLICT DO NOTHING
       RETURNING ${COLUMNS}`,
      [job.id, job.userId, job.imageId, job.specHash, JSON.stringify(job.spec), job.idempotencyKey ?? null, job.requestHash ?? null, job.webhookUrl ?? null, job.requestId ?? null, derivativeId],
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

  async markSucceeded(id: string, derivativeId: string): Promise<boolean> {
    const res = await this.ds.query(
      `UPDATE jobs SET status = 'succeeded', progress = 100, derivative_id = $2, finished_at = now(), error_code = NULL, error_message = NULL
        WHERE id = $1 AND status IN ('queued', 'active') RETURNING id`,
      [id, derivativeId],
    );
    await this.jobWritten(id);
    return returnedRows(res).length > 0;
  }

  async markFailed(id: string, code: string, message: string): Promise<boolean> {
    const res = await this.ds.query(
      `UPDATE jobs SET status = 'failed', error_code = $2, error_message = $3, finished_at = now()
        WHERE id = $1 AND status IN ('queued', 'active') RETURNING id`,
      [id, code, message.slice(0, 1000)],
    );
    await this.jobWritten(id);
    return returnedRows(res).length > 0;
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

  /** Jobs the database says are pending, created more than `olderThanSeconds` ago (for the reconciler). */
  async inFlight(olderThanSeconds: number, limit = 500): Promise<JobEntity[]> {
    return this.ds.query(
      `SELECT ${COLUMNS} FROM jobs WHERE status IN ('queued', 'active') AND created_at < now() - make_interval(secs => $1)
        ORDER BY created_at LIMIT $2`,
      [olderThanSeconds, limit],
    );
  }
}
