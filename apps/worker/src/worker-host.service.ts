import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { DelayedError, Job, Worker } from 'bullmq';
import type IORedis from 'ioredis';
import { AppConfig } from '@pixmill/config';
import { JobEngineMetrics, JobLifecycle } from '@pixmill/jobs';
import { createRedisConnection, JOB_QUEUE, JobName, QueueName, WEBHOOK_BACKOFF, webhookRetryDelaySeconds } from '@pixmill/queue';
import { annotateActiveSpan, SpanKind, TraceCarrier, withSpan } from '@pixmill/tracing';
import { finalFailureOf } from './final-failure.util';
import { JOB_PROCESSOR, JobProcessor, JobReport } from './job-processor.decorator';
import { jobRunLogLine } from './job-run-log.util';
import { WorkerMetrics } from './worker-metrics.service';

export class ProcessorRegistryError extends Error {}

/**
 * A job whose worker died is taken back this many times; one more stall and BullMQ fails
 * it (the reconciler then records the failure on the row). Two, not BullMQ's default one,
 * so a job still finishes when a rolling deploy kills its worker twice; a third death
 * suggests the job itself kills workers (memory on a huge render), and it stops there.
 */
const MAX_STALLED_COUNT = 2;

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
  /** Jobs being processed right now, with the lock token each was taken under (for handBack). */
  private readonly inHand = new Map<string, { job: Job; token: string | undefined }>();
  /** Renews the run leases of the renders in hand (JobLifecycle.start). */
  private leaseTimer?: NodeJS.Timeout;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
    private readonly lifecycle: JobLifecycle,
    private readonly engineMetrics: JobEngineMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.collectProcessors();
    for (const queue of Object.values(QueueName)) this.workers.push(this.startWorker(queue));
    this.leaseTimer = setInterval(() => void this.renewLeases(), Math.max(100, Math.floor(this.lifecycle.leaseMs / 3)));
    this.leaseTimer.unref();
    this.logger.log(
      `consuming ${Object.values(QueueName).join(', ')}: ${this.config.worker.concurrency} jobs at once per queue, ` +
        `${this.config.webhooks.concurrency} for ${QueueName.Webhook}`,
    );
  }

  /**
   * Renders are CPU-bound: WORKER_CONCURRENCY of them per process. Webhook deliveries mostly
   * wait on receivers (up to WEBHOOK_TIMEOUT_MS each when one hangs), so they get their own,
   * larger WEBHOOK_CONCURRENCY: slow receivers do not hold up renders, nor a handful of them
   * every other user's deliveries.
   */
  private concurrencyOf(queue: QueueName): number {
    return queue === QueueName.Webhook ? this.config.webhooks.concurrency : this.config.worker.concurrency;
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
    // Stalled-job recovery: a worker renews the lock on each active job every lockDuration/2.
    // One that dies (SIGKILL, lost machine) stops renewing; once the lock expires, another
    // worker's stalled check (every stalledInterval) moves the job back to waiting and it runs
    // again, as a new attempt (the processor is safe to re-run). Renders run on libuv threads,
    // so even a 50 MP AVIF taking over 30 s keeps its lock renewed; the 60 s default is margin
    // for event-loop pauses on a loaded host (GC of large buffers), since a lock that lapses
    // mid-render makes a second worker render the same job. The price: a dead worker's job
    // waits up to lockDuration + stalledInterval (~75 s by default) before it runs again.
    const worker = new Worker(queue, (job, token) => this.dispatch(job, token), {
      connection,
      prefix: this.config.redis.queuePrefix,
      concurrency: this.concurrencyOf(queue),
      lockDuration: this.config.worker.lockDurationMs,
      stalledInterval: this.config.worker.stalledIntervalMs,
      maxStalledCount: MAX_STALLED_COUNT,
      autorun: true,
      settings: {
        // Webhook deliveries retry on WEBHOOK_RETRY_SCHEDULE; BullMQ's built-in types never reach here.
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === WEBHOOK_BACKOFF ? webhookRetryDelaySeconds(this.config.webhooks.retryScheduleSeconds, attemptsMade) * 1000 : 0,
      },
    });
    worker.on('error', (err) => this.logger.warn(`queue ${queue}: ${err.message}`));
    worker.on('failed', (job, err) => void this.recordFinalFailure(job, err));
    return worker;
  }

  /**
   * The one place a transient failure becomes final on the job row: after the last attempt.
   * If this write is lost (database down), the reconciler finds the row still in flight while
   * BullMQ holds the job as failed, and records it then.
   */
  private async recordFinalFailure(job: Job | undefined, err: Error): Promise<void> {
    const failure = job && finalFailureOf(job, err);
    if (!failure) return;
    try {
      await this.lifecycle.failInternal(failure.jobId, failure.message);
    } catch (e) {
      this.engineMetrics.transitions.inc({ transition: 'fail_internal', outcome: 'error' });
      this.logger.warn({ msg: 'could not record the final failure; the reconciler records it', code: 'final_failure_unrecorded', jobId: failure.jobId, error: (e as Error).message });
    }
  }

  /**
   * A render holds its job row by a lease as long as BullMQ's lock (docs/decisions/016): one
   * statement every third of it renews the leases of every render in hand, so a render of any
   * length keeps its job while its process lives, and a second run handed the same job (Redis
   * lost or stalled the lock) waits instead of rendering it again. A W1 render ends long before
   * the first renewal: the hot path pays nothing for it.
   */
  private async renewLeases(): Promise<void> {
    const runs = [...this.inHand.values()]
      .filter(({ job, token }) => job.name === JobName.Transform && token && job.data?.jobId)
      .map(({ job, token }) => ({ jobId: job.data.jobId as string, runToken: token! }));
    if (!runs.length) return;
    try {
      await this.lifecycle.renewLeases(runs);
    } catch (err) {
      this.engineMetrics.transitions.inc({ transition: 'renew_leases', outcome: 'error' });
      this.logger.warn({ msg: 'could not renew the leases of the renders in hand; retried on the next tick', code: 'lease_renewal_failed', jobs: runs.length, error: (err as Error).message });
    }
  }

  /**
   * Each run of a job is a consumer span, the child of the span that enqueued it when the job
   * data carries its `traceparent` (docs/decisions/062): the processor's spans, queries and
   * commands, and the jobs it enqueues in turn, all join the trace of the request that caused it.
   */
  private dispatch(job: Job, token: string | undefined): Promise<unknown> {
    const data = (job.data ?? {}) as TraceCarrier & { requestId?: string };
    return withSpan(
      `process ${job.name}`,
      {
        kind: SpanKind.CONSUMER,
        remoteParent: data.traceparent ? { traceparent: data.traceparent, tracestate: data.tracestate } : null,
        attributes: {
          'messaging.system': 'bullmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': job.queueName,
          'messaging.message.id': job.id ?? '',
          'pixmill.job.attempt': job.attemptsMade + 1,
          ...(data.requestId ? { 'pixmill.request_id': data.requestId } : {}),
        },
        notAnError: (err) => err instanceof DelayedError,
      },
      () => this.run(job, token),
    );
  }

  private async run(job: Job, token: string | undefined): Promise<unknown> {
    const name = job.name as JobName;
    const processor = this.processors.get(name);
    if (!processor || JOB_QUEUE[name] === undefined) throw new Error(`no processor for job "${job.name}"`);
    const key = `${job.queueName}/${job.id}`;
    this.inHand.set(key, { job, token });
    const report: JobReport = {};
    const started = performance.now();
    let result: unknown;
    try {
      result = await processor.process(job, report, token);
    } catch (error) {
      // A processor that put its job back for later itself (a webhook delivery over its user's
      // cap) neither failed nor ran: no log line, and pixmill_webhook_over_cap_total counts it.
      if (error instanceof DelayedError) this.metrics.observeJob(job.name, 'delayed', (performance.now() - started) / 1000);
      else {
        this.finished(job, report, started, { error });
        // A render that threw lets go of its job row at once, so BullMQ's retry starts without waiting out the lease.
        if (name === JobName.Transform && token && job.data?.jobId) await this.lifecycle.endAttempt({ jobId: job.data.jobId, runToken: token });
      }
      throw error;
    } finally {
      this.inHand.delete(key);
    }
    this.finished(job, report, started, { result });
    return result;
  }

  /** The metrics and the one structured log line of a run. */
  private finished(job: Job, report: JobReport, started: number, end: { result: unknown } | { error: unknown }): void {
    const ms = performance.now() - started;
    const failed = 'error' in end && !report.refusedByReceiver;
    this.metrics.observeJob(job.name, failed ? 'failed' : 'completed', ms / 1000, job.name === JobName.Transform ? report : {});
    const line = jobRunLogLine(job, report, ms, end);
    annotateActiveSpan({ 'pixmill.job.outcome': line.outcome, ...(line.errorCode ? { 'pixmill.error_code': String(line.errorCode) } : {}) });
    if (line.outcome === 'succeeded' || line.outcome === 'skipped') this.logger.log(line);
    else this.logger.warn(line);
  }

  /** Graceful: stop taking jobs, let the ones in hand finish (for up to WORKER_SHUTDOWN_TIMEOUT_MS; then handBack). */
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.close()));
    clearInterval(this.leaseTimer);
    this.connections.forEach((c) => c.disconnect());
  }

  /**
   * The grace period is over and jobs are still in hand (a long render): each goes back to
   * its queue (a transform under its fair round, which is among the lowest waiting, since it
   * had already been picked), so another worker starts it now rather than once its lock has
   * expired and a stalled check has found it (lockDuration + stalledInterval, ~75 s by
   * default; BullMQ's close(force) only stops waiting, it leaves the job active and locked).
   * A job handed back does not count as stalled (MAX_STALLED_COUNT).
   *
   * Nothing is written to PostgreSQL: the attempt neither failed nor succeeded, and its row
   * stays `active` until the next worker's attempt takes it over. Should this process's
   * render still end before the process does, what it writes is true and idempotent (one
   * derivative per image and spec, final states only from queued or active), and BullMQ
   * refuses its completion since the lock is gone.
   */
  async handBack(): Promise<void> {
    const handedBack = await this.lifecycle.handBack([...this.inHand.values()]);
    this.logger.log(`handed back ${handedBack.length} job(s) in hand to their queues: ${handedBack.map((j) => `${j.queueName}/${j.id}`).join(', ') || 'none'}`);
  }

  isRunning(): boolean {
    return this.workers.length > 0 && this.workers.every((w) => w.isRunning());
  }
}
