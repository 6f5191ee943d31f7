import { Injectable } from '@nestjs/common';
import { AppConfig } from '@pixmill/config';
import { JobEntity, JobRepository } from '@pixmill/db';
import { JobQueue } from './job-queue.service';

/**
 * Fair scheduling by admission (docs/decisions/008). A job row goes to the queue only
 * when it is dispatched, and at most MAX_ACTIVE_JOBS_PER_USER of a user's jobs are
 * dispatched and unfinished at a time; the rest wait in PostgreSQL, oldest first. One
 * user's burst therefore puts a handful of jobs in the queue, and another user's job
 * lines up right behind them instead of behind the whole burst.
 *
 * `dispatch` fills free slots only, so calling it more often than needed is harmless.
 * It is called after a submission, after a job becomes final (worker) or is canceled or
 * deleted (API), and by the reconciler for jobs that waited too long (a crash between
 * insert and dispatch, or a slot freed where no hook ran).
 */
@Injectable()
export class JobDispatcher {
  constructor(
    private readonly jobs: JobRepository,
    private readonly queue: JobQueue,
    private readonly config: AppConfig,
  ) {}

  /**
   * Dispatches the user's next jobs and enqueues them in order. If the enqueue fails
   * (Redis down), the rows stay dispatched and the reconciler enqueues them; the error
   * is thrown for the caller to log or ignore.
   */
  async dispatch(userId: string): Promise<JobEntity[]> {
    const dispatched = await this.jobs.dispatchNext(userId, this.config.limits.maxActiveJobsPerUser);
    for (const job of dispatched) await this.queue.enqueueTransform(job.id, job.requestId ?? undefined);
    return dispatched;
  }

  /** Fills the slot that job `jobId` held, once it is final; a job row that is gone names no user, so nothing happens. */
  async dispatchAfter(jobId: string): Promise<JobEntity[]> {
    const job = await this.jobs.findById(jobId);
    return job ? this.dispatch(job.userId) : [];
  }
}
