import { SetMetadata } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobDataOf, JobName, JobResults } from '@pixmill/queue';

export const JOB_PROCESSOR = 'pixmill:jobProcessor';

/**
 * What a processor adds to the one log line and the metrics the worker host writes for each
 * run of a job, beyond what the host knows itself (job name and id, request id, duration,
 * attempt, how it ended). Filled in as the processor learns it, so a run that throws halfway
 * still reports what was known by then.
 */
export interface JobReport {
  imageId?: string;
  userId?: string;
  /** Attempts as the user sees them (the job row's or the delivery's count), when that differs from BullMQ's. */
  attempts?: number;
  /** Transform jobs: labels of pixmill_job_duration_seconds (operationChain of the spec, output format). */
  ops?: string;
  format?: string;
  /** The stable code of a failure (`image_corrupt`…), when the processor knows it. */
  errorCode?: string;
  /** The request id recorded with the work, when the job data has none (a job the reconciler enqueued again). */
  requestId?: string;
  deliveryId?: string;
  messageId?: string;
  endpointId?: string | null;
  statusCode?: number | null;
  /** Overrides the run's duration in the log line: a webhook delivery reports its HTTP attempt, as its delivery log shows it. */
  durationMs?: number;
  /**
   * The run threw because a webhook receiver did not take the message (non-2xx, timeout,
   * refused connection), not because the job failed: it is counted in
   * pixmill_webhook_attempts_total, not in the job failure metrics.
   */
  refusedByReceiver?: boolean;
}

/**
 * The worker-side handler of job name `N`: its data and result types come from the job
 * contracts (JobOf, JobResults), so a processor that reads the wrong data does not compile.
 */
export interface JobProcessor<N extends JobName = JobName> {
  /** `token`: the job's lock, for a processor that moves its own job (put back for later, over a cap). */
  process(job: Job<JobDataOf<N>, JobResults[N]>, report: JobReport, token?: string): Promise<JobResults[N]>;
}

/** Registers a provider as the handler of `name`; the worker host finds it at boot. */
export const Processes = (name: JobName): ClassDecorator => SetMetadata(JOB_PROCESSOR, name);
