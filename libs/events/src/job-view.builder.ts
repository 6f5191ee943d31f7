import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DerivativeRepository, JobEntity } from '@pixmill/db';
import { JobQueue } from '@pixmill/queue';
import { DeliveryUrlService } from '@pixmill/storage';
import { JobView } from './webhook-event.types';

const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);

/** The one mapping from a job row to what clients see, shared by the API's answers and webhook payloads. */
@Injectable()
export class JobViewBuilder {
  private readonly logger = new Logger('JobViewBuilder');

  constructor(
    private readonly derivatives: DerivativeRepository,
    private readonly delivery: DeliveryUrlService,
    private readonly queue: JobQueue,
  ) {}

  async build(job: JobEntity, em?: EntityManager): Promise<JobView> {
    let result: JobView['result'] = null;
    if (job.status === 'succeeded' && job.derivativeId) {
      const d = job.derivative?.id === job.derivativeId ? job.derivative : await this.derivatives.findById(job.derivativeId, em);
      if (d) {
        result = {
          derivativeId: d.id,
          url: await this.delivery.urlFor(d.storageKey),
          width: d.width,
          height: d.height,
          format: d.format,
          bytes: d.bytes,
        };
      }
    }
    return {
      id: job.id,
      imageId: job.imageId,
      status: job.status,
      progress: job.status === 'active' ? await this.progressOf(job) : job.progress,
      attempts: job.attempts,
      cached: job.cached,
      spec: job.spec,
      error: job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? '' } : null,
      result,
      createdAt: iso(job.createdAt)!,
      startedAt: iso(job.startedAt),
      finishedAt: iso(job.finishedAt),
    };
  }

  /** A render's progress lives in the queue while it runs (workers write no row per step). */
  private async progressOf(job: JobEntity): Promise<number> {
    try {
      return (await this.queue.transformProgress(job.id)) ?? job.progress;
    } catch (err) {
      this.logger.warn({ msg: 'job progress unreadable from the queue; showing the row', code: 'progress_unavailable', jobId: job.id, error: (err as Error).message });
      return job.progress;
    }
  }
}
