import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { JobEntity, JobRepository, NewJob } from '@pixmill/db';
import { JobViewBuilder } from './job-view.builder';
import { PendingDeliveries, WebhookOutbox } from './webhook-outbox.service';

/**
 * The one place a job becomes final: each write is a conditional UPDATE (or an
 * insert, for a cache hit) in a transaction with its webhook message, so a job
 * that succeeds or fails is reported exactly once, however many paths race to
 * record it. Returns the row when this call made the change, null otherwise.
 */
@Injectable()
export class JobStateRecorder {
  constructor(
    private readonly ds: DataSource,
    private readonly jobs: JobRepository,
    private readonly views: JobViewBuilder,
    private readonly outbox: WebhookOutbox,
  ) {}

  succeeded(jobId: string, derivativeId: string): Promise<JobEntity | null> {
    return this.record((em, unwatched) => this.jobs.markSucceeded(jobId, derivativeId, em, unwatched), 'job.succeeded');
  }

  failed(jobId: string, code: string, message: string): Promise<JobEntity | null> {
    return this.record((em, unwatched) => this.jobs.markFailed(jobId, code, message, em, unwatched), 'job.failed');
  }

  /** A submission whose derivative exists: the job is created succeeded, and reported as such. */
  cached(job: NewJob, derivativeId: string): Promise<JobEntity | null> {
    return this.record((em, unwatched) => this.jobs.insertCached(job, derivativeId, em, unwatched), 'job.succeeded');
  }

  /**
   * First the write alone, on the condition that nobody watches this event (most jobs):
   * one round trip, no message to write. When that changes nothing (someone watches, or the
   * job is final already), the transaction with the outbox message.
   */
  private async record(
    write: (em: EntityManager, unwatched?: string) => Promise<JobEntity | null>,
    type: 'job.succeeded' | 'job.failed',
  ): Promise<JobEntity | null> {
    const quiet = await write(this.ds.manager, type);
    if (quiet) return quiet;
    let pending: PendingDeliveries = { ids: [] };
    const row = await this.ds.transaction(async (em) => {
      const changed = await write(em);
      if (changed) {
        pending = await this.outbox.record(em, {
          userId: changed.userId,
          type,
          data: () => this.views.build(changed, em),
          urls: changed.webhookUrls,
          jobId: changed.id,
          imageId: changed.imageId,
          requestId: changed.requestId,
        });
      }
      return changed;
    });
    await this.outbox.enqueue(pending);
    return row;
  }
}
