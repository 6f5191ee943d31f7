import { SetMetadata } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName } from '@pixmill/queue';

export const JOB_PROCESSOR = 'pixmill:jobProcessor';

/** A worker-side handler of one job name. */
export interface JobProcessor<D = unknown, R = unknown> {
  process(job: Job<D, R>): Promise<R>;
}

/** Registers a provider as the handler of `name`; the worker host finds it at boot. */
export const Processes = (name: JobName): ClassDecorator => SetMetadata(JOB_PROCESSOR, name);
