import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { StorageCleanupRepository } from '@pixmill/db';
import { JobName, JobResults, StorageCleanupJobData } from '@pixmill/queue';
import { StorageDriver } from '@pixmill/storage';
import { JobProcessor, Processes } from '../job-processor.decorator';

type Result = JobResults[JobName.StorageCleanup];

/** Deletes the objects of a deleted image; the cleanup record goes only once storage confirmed. */
@Injectable()
@Processes(JobName.StorageCleanup)
export class StorageCleanupProcessor implements JobProcessor<JobName.StorageCleanup> {
  constructor(
    private readonly cleanups: StorageCleanupRepository,
    private readonly storage: StorageDriver,
  ) {}

  async process(job: Job<StorageCleanupJobData>): Promise<Result> {
    const cleanup = await this.cleanups.find(job.data.cleanupId);
    if (!cleanup) return { deleted: 0 };
    const deleted = await this.storage.deleteByPrefix(cleanup.prefix); // throws while storage is down → retried
    await this.cleanups.done(cleanup.id);
    return { deleted };
  }
}
