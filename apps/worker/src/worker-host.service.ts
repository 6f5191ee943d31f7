import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Job, Worker } from 'bullmq';
import type IORedis from 'ioredis';
import { AppConfig } from '@pixmill/config';
import { createRedisConnection, JOB_QUEUE, JobName, QueueName } from '@pixmill/queue';
import { JOB_PROCESSOR, JobProcessor } from './job-processor.decorator';
import { WorkerMetrics } from './worker-metrics.service';

export class ProcessorRegistryError extends Error {}

/**
 * Starts one BullMQ worker per queue and routes each job to its processor.
 * Refuses to boot when a job name has no processor, or more than one.
 */
@Injectable()
export class WorkerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WorkerHost');
  private readonly processors = new Map<JobName, JobProcessor>();
  private readonly workers: Worker[] = [];
  private readonly connections: IORedis[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.collectProcessors();
    for (const queue of Object.values(QueueName)) this.workers.push(this.startWorker(queue));
    this.logger.log(`consuming ${Object.values(QueueName).join(', ')} with concurrency ${this.config.worker.concurrency}`);
  }

  private collectProcessors(): void {
    const seen = new Map<JobName, string[]>();
    for (const wrapper of this.discovery.getProviders()) {
      const name: JobName | undefined = wrapper.metatype && Reflect.getMetadata(JOB_PROCESSOR, wrapper.metatype);
      if (!name || !wrapper.instance) continue;
      seen.set(name, [...(seen.get(name) ?? []), wrapper.name as string]);
      this.processors.set(name, wrapper.instance as JobProcessor);
    }
    const missing = Object.values(JobName).filter((n) => !seen.has(n));
    const doubled = [...seen.entries()].filter(([, list]) => list.length > 1);
    if (missing.length || doubled.length) {
      throw new ProcessorRegistryError(
        [
          ...missing.map((n) => `no processor for job "${n}"`),
          ...doubled.map(([n, list]) => `job "${n}" has ${list.length} processors: ${list.join(', ')}`),
        ].join('; '),
      );
    }
  }

  private startWorker(queue: QueueName): Worker {
    const connection = createRedisConnection(this.config.redis.url, 'worker', `worker:${queue}`);
    this.connections.push(connection);
    const worker = new Worker(queue, (job) => this.dispatch(job), {
      connection,
      prefix: this.config.redis.queuePrefix,
      concurrency: this.config.worker.concurrency,
      autorun: true,
    });
    worker.on('error', (err) => this.logger.warn(`queue ${queue}: ${err.message}`));
    return worker;
  }

  private async dispatch(job: Job): Promise<unknown> {
    const name = job.name as JobName;
    const processor = this.processors.get(name);
    if (!processor || JOB_QUEUE[name] === undefined) throw new Error(`no processor for job "${job.name}"`);
    const end = this.metrics.jobDuration.startTimer({ job: name });
    try {
      const result = await processor.process(job);
      end({ outcome: 'completed' });
      return result;
    } catch (err) {
      end({ outcome: 'failed' });
      this.metrics.jobFailures.inc({ job: name });
      throw err;
    }
  }

  /** Graceful: stop taking jobs, let the ones in hand finish. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.close()));
    this.connections.forEach((c) => c.disconnect());
  }

  isRunning(): boolean {
    return this.workers.length > 0 && this.workers.every((w) => w.isRunning());
  }
}
