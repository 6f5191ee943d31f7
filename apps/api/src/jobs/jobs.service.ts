import { Injectable } from '@nestjs/common';
import { DomainException, NotFoundException } from '@pixmill/common';
import { FINAL_JOB_STATUSES, JobEntity, JobRepository } from '@pixmill/db';
import { JobViewBuilder } from '@pixmill/events';
import { JobName, JobQueue, QueueName } from '@pixmill/queue';
import { decodeCursor, encodeCursor } from '../common/cursor.util';
import { JobDto, JobPageDto } from './job.dto';

export class JobNotCancelableException extends DomainException {
  constructor(status: string) {
    super(409, 'job_not_cancelable', `Only queued jobs can be canceled; this job is ${status}.`);
  }
}

@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly views: JobViewBuilder,
    private readonly queue: JobQueue,
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
   * Returns the job once it is final, or after `waitSeconds`. Waiting listens to
   * the queue's completion events (no polling of the database); the row is read
   * again at the end because it is the truth.
   */
  async waitForFinal(job: JobEntity, waitSeconds: number): Promise<JobEntity> {
    if (JobsService.isFinal(job) || waitSeconds <= 0) return job;
    await this.queue.waitFor(JobName.Transform, job.id, waitSeconds * 1000).catch(() => undefined);
    return (await this.jobs.findById(job.id)) ?? job;
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

  async cancel(userId: string, id: string): Promise<JobEntity> {
    const job = await this.getOwned(userId, id);
    const canceled = await this.jobs.cancelQueued(userId, id);
    if (!canceled) throw new JobNotCancelableException((await this.jobs.findById(id))?.status ?? job.status);
    // The row says canceled, so a worker that still picks the job up skips it; removing it is a courtesy.
    await this.queue.queue(QueueName.Transform).remove(id).catch(() => undefined);
    return canceled;
  }
}
