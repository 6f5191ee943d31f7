import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, PingJobData, PingJobResult } from '@pixmill/queue';
import { JobProcessor, Processes } from '../job-processor.decorator';

/** Answers the API's ping: proves a separate worker process consumes the queues. */
@Injectable()
@Processes(JobName.Ping)
export class PingProcessor implements JobProcessor<JobName.Ping> {
  async process(job: Job<PingJobData>): Promise<PingJobResult> {
    return { message: job.data.message, workerPid: process.pid, handledAt: new Date().toISOString() };
  }
}
