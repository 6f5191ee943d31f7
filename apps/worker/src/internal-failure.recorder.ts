import { Injectable } from '@nestjs/common';
import { JobRepository, UserRepository } from '@pixmill/db';

/**
 * Records that a job failed for Pixmill's own reasons (retries exhausted, lost
 * work) and gives the user back the daily-quota unit the render took. The
 * conditional markFailed makes this once-only, however many paths report it.
 */
@Injectable()
export class InternalFailureRecorder {
  constructor(
    private readonly jobs: JobRepository,
    private readonly users: UserRepository,
  ) {}

  async record(jobId: string, message: string): Promise<boolean> {
    const job = await this.jobs.findById(jobId);
    if (!job || !(await this.jobs.markFailed(jobId, 'internal_error', message))) return false;
    if (!job.cached) await this.users.refundDailyTransform(job.userId, new Date(job.createdAt));
    return true;
  }
}
