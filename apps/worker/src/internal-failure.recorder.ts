import { Injectable } from '@nestjs/common';
import { JobRepository, UserRepository } from '@pixmill/db';
import { JobStateRecorder } from '@pixmill/events';

/**
 * Records that a job failed for Pixmill's own reasons (retries exhausted, lost
 * work) and gives the user back the daily-quota unit the render took. The
 * conditional markFailed (behind JobStateRecorder) makes this once-only, however many paths report it.
 */
@Injectable()
export class InternalFailureRecorder {
  constructor(
    private readonly jobs: JobRepository,
    private readonly users: UserRepository,
    private readonly states: JobStateRecorder,
  ) {}

  async record(jobId: string, message: string): Promise<boolean> {
    const job = await this.jobs.findById(jobId);
    if (!job || !(await this.states.failed(jobId, 'internal_error', message))) return false;
    if (!job.cached) await this.users.refundDailyTransform(job.userId, new Date(job.createdAt));
    return true;
  }
}
