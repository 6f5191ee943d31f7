import { Injectable } from '@nestjs/common';
import { DomainException, NotFoundException } from '@pixmill/common';
import { FINAL_JOB_STATUSES, JobEntity, JobRepository } from '@pixmill/db';
import { JobViewBuilder } from '@pixmill/events';
import { JobDispatcher, JobName, JobQueue, QueueName } from '@pixmill/queue';
import { decodeCursor, encodeCursor } from '../common/cursor.util';
import { DailyQuotaService } from '../quota/daily-quota.service';
import { JobDto, JobPageDto } from './job.dto';

export class JobNotCancelableException extends DomainException {
  constructor(status: string) {
    super('job_not_cancelable', `Only queued jobs can be canceled; this job is ${status}.`);
  }
}

/** How often a long-poll reads the row of a job that waits for one of its user's slots. */
const UNDISPATCHED_POLL_MS = 500;
/** How long a long-poll trusts the queue's events alone before it reads the row again. */
const EVENT_RECHECK_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly views: JobViewBuilder,
    private readonly queue: JobQueue,
    private readonly dispatcher: JobDispatcher,
    private readonly quota: DailyQuotaService,
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
   * Returns the job once it is final, or after `waitSeconds`. A job in the queue is
   * waited for on the queue's completion events; a job still waiting for one of its
   * user's slots has its row read every UNDISPATCHED_POLL_MS. Either way the row, which
   * is the truth, is read again at least every EVENT_RECHECK_MS: a job can end without
   * a queue event (the reconciler settling it, or an event missed while the event
   * stream reconnects), and a long-poll must not sleep through that.
   */
  async waitForFinal(job: JobEntity, waitSeconds: number): Promise<JobEntity> {
    if (JobsService.isFinal(job) || waitSeconds <= 0) return job;
    const deadline = Date.now() + waitSeconds * 1000;
    let row = job;
    while (!JobsService.isFinal(row) && Date.now() < deadline) {
      const left = deadline - Date.now();
      if (!row.dispatchedAt) {
        await sleep(Math.min(UNDISPATCHED_POLL_MS, left));
      } else {
        // Not in the queue (yet, or any more): a short pause instead of a busy loop on the row.
        await this.queue
          .waitFor(JobName.Transform, job.id, Math.min(EVENT_RECHECK_MS, left))
          .catch((err: Error) => (/not found/.test(err.message) ? sleep(Math.min(UNDISPATCHED_POLL_MS, left)) : undefined));
      }
      row = (await this.jobs.findById(job.id)) ?? row;
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

  async cancel(userId: string, id: string): Promise<JobEntity> {
    const job = await this.getOwned(userId, id);
    const canceled = await this.jobs.cancelQueued(userId, id);
    if (!canceled) throw new JobNotCancelableException((await this.jobs.findById(id))?.status ?? job.status);
    // It never rendered: the daily quota unit it took comes back.
    await this.quota.refundCanceled(userId, canceled.createdAt).catch(() => undefined);
    // The row says canceled, so a worker that still picks the job up skips it; removing it is a courtesy.
    await this.queue.queue(QueueName.Transform).remove(id).catch(() => undefined);
    // A dispatched job held one of the user's slots: the next waiting job takes it.
    await this.dispatcher.dispatch(userId).catch(() => undefined);
    return canceled;
  }
}
