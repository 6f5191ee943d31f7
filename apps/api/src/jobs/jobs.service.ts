import { Injectable } from '@nestjs/common';
import { NotFoundException } from '@pixmill/common';
import { FINAL_JOB_STATUSES, JobEntity, JobRepository } from '@pixmill/db';
import { JobViewBuilder } from '@pixmill/events';
import { JobFinalWaiter, JobFinalWatcher, JobLifecycle } from '@pixmill/jobs';
import { decodeCursor, encodeCursor } from '../common/cursor.util';
import { JobDto, JobPageDto } from './job.dto';

export { JobNotCancelableException } from '@pixmill/jobs';

/**
 * How long a long-poll trusts announcements alone before it reads the row again: a job can
 * end without one reaching this process (the LISTEN connection broke and came back).
 */
const ROW_RECHECK_MS = 5000;

@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly views: JobViewBuilder,
    private readonly lifecycle: JobLifecycle,
    private readonly finals: JobFinalWatcher,
  ) {}

  static isFinal(job: JobEntity): boolean {
    return FINAL_JOB_STATUSES.includes(job.status);
  }

  toDto(job: JobEntity): Promise<JobDto> {
    return this.views.build(job);
  }

  async getOwned(userId: string, id: string): Promise<JobEntity> {
    const job = await this.jobs.findOwned(userId, id);
    if (!job) throw new NotFoundException('Job');
    return job;
  }

  /**
   * The owner's job once it is final, or after `waitSeconds` (GET /v1/jobs/{id}?wait=). The
   * waiter is registered before the first read, so that read is also the one that would see
   * an end the announcement of which came before it. A long-poll reads PostgreSQL, not the
   * read cache: the job it waits for is usually in flight, and those rows are never cached.
   * A job this process submitted while listening needs no first read (JobFinalWatcher.heardOf).
   */
  async getOwnedFinal(userId: string, id: string, waitSeconds: number): Promise<JobEntity> {
    if (waitSeconds <= 0) return this.getOwned(userId, id);
    const waiter = this.finals.watch(id);
    try {
      const job = await this.firstLook(id, userId);
      if (!job || job.userId !== userId) throw new NotFoundException('Job');
      return await this.waitWith(waiter, job, Date.now() + waitSeconds * 1000);
    } finally {
      waiter.close();
    }
  }

  /**
   * Returns `job` once it is final, or after `waitSeconds`. Waits on the process's one
   * subscription to final states (JobFinalWatcher), registered before the row is read again
   * so an end in between is not missed; the row, which is the truth, is read on every
   * announcement that does not carry it and at least every ROW_RECHECK_MS.
   */
  async waitForFinal(job: JobEntity, waitSeconds: number): Promise<JobEntity> {
    if (JobsService.isFinal(job) || waitSeconds <= 0) return job;
    const waiter = this.finals.watch(job.id);
    try {
      return await this.waitWith(waiter, (await this.firstLook(job.id, job.userId)) ?? job, Date.now() + waitSeconds * 1000);
    } finally {
      waiter.close();
    }
  }

  /**
   * The row a long-poll starts from: what this process heard of a job it submitted (no round
   * trip: still in flight, or the row its end announced), else the row as stored.
   */
  private async firstLook(id: string, userId: string): Promise<JobEntity | null> {
    const heard = this.finals.heardOf(id, userId);
    if (heard && !heard.ended) return heard.submitted;
    if (heard?.ended && heard.ended.final) return heard.ended.final;
    return this.jobs.findById(id);
  }

  private async waitWith(waiter: JobFinalWaiter, job: JobEntity, deadline: number): Promise<JobEntity> {
    let row = job;
    while (!JobsService.isFinal(row) && Date.now() < deadline) {
      // The announcement of the worker's success carries the final row; otherwise it is read.
      const announced = await waiter.until(Math.min(ROW_RECHECK_MS, deadline - Date.now()));
      row = announced ?? (await this.jobs.findById(job.id)) ?? row;
    }
    return row;
  }

  async list(userId: string, q: { imageId?: string; status?: JobEntity['status']; limit?: number; cursor?: string }): Promise<JobPageDto> {
    const limit = q.limit ?? 20;
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const { items, hasMore } = await this.jobs.list(userId, { limit, imageId: q.imageId, status: q.status, after });
    const last = items[items.length - 1];
    return {
      items: await Promise.all(items.map((j) => this.toDto(j))),
      nextCursor: hasMore && last ? encodeCursor(new Date(last.createdAt), last.id) : null,
    };
  }

  /** Cancels a queued job (its daily unit comes back); 404 for another user's, 409 once it has started. */
  cancel(userId: string, id: string): Promise<JobEntity> {
    return this.lifecycle.cancel(userId, id);
  }
}
