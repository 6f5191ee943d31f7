import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { JobsOptions, Queue, QueueEvents } from 'bullmq';
import type IORedis from 'ioredis';
import { AppConfig } from '@pixmill/config';
import { currentTraceHeaders, inTrace, SpanKind, withSpan } from '@pixmill/tracing';
import { JobItem, JobResults, jobIds, WEBHOOK_BACKOFF } from './job-contracts';
import { JOB_QUEUE, JobName, QueueName } from './queue-names';
import { createRedisConnection } from './redis-connection.factory';
import { fairPriority } from './fair-priority.util';

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10000 },
  removeOnFail: { age: 24 * 3600 },
};

/**
 * The producer side of the queues: the only class outside apps/worker that
 * touches BullMQ. Queues and their event listeners are created on first use.
 */
@Injectable()
export class JobQueue implements OnApplicationShutdown {
  private readonly connection: IORedis;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly events = new Map<QueueName, Promise<QueueEvents>>();
  private readonly openedEvents: QueueEvents[] = [];
  /** Connections handed to BullMQ are ours to close: BullMQ leaves shared connections open. */
  private readonly eventConnections: IORedis[] = [];

  constructor(private readonly config: AppConfig) {
    this.connection = createRedisConnection(config.redis.url, 'producer', 'producer');
  }

  queue(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, {
        connection: this.connection,
        prefix: this.config.redis.queuePrefix,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      });
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  /**
   * Inside a trace (tracing on), the job goes out from a producer span whose W3C context rides
   * in the job data (`traceparent`), so the worker's run of it joins the same trace
   * (docs/decisions/062). Outside one, the data is exactly what was given.
   */
  async add(item: JobItem, opts: JobsOptions = {}): Promise<string> {
    const queueName = JOB_QUEUE[item.name];
    if (!inTrace()) return (await this.queue(queueName).add(item.name, item.data, opts)).id!;
    return withSpan(
      `enqueue ${item.name}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: { 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': queueName, ...(opts.jobId ? { 'messaging.message.id': opts.jobId } : {}) },
      },
      async () => (await this.queue(queueName).add(item.name, { ...item.data, ...currentTraceHeaders() }, opts)).id!,
    );
  }

  /**
   * The render of job row `jobId`; the BullMQ id is the row id, so enqueueing twice is a no-op.
   * Its priority is the row's fair-scheduling round (docs/decisions/008): the lowest runs first.
   */
  enqueueTransform(job: { id: string; fairSeq: number; requestId?: string | null }): Promise<string> {
    return this.add(
      { name: JobName.Transform, data: { jobId: job.id, requestId: job.requestId ?? undefined } },
      { jobId: job.id, priority: fairPriority(job.fairSeq) },
    );
  }

  /** Takes a transform job out of the queue (a courtesy: its row, canceled, already keeps it from rendering). */
  async removeTransform(jobId: string): Promise<void> {
    await this.queue(QueueName.Transform).remove(jobId);
  }

  /**
   * A render's progress (0–100), which workers report to BullMQ only: the row holds 0 until
   * the job ends. Null when the queue holds no such job.
   */
  async transformProgress(jobId: string): Promise<number | null> {
    const raw = await this.connection.hget(this.queue(QueueName.Transform).toKey(jobId), 'progress');
    const n = raw === null ? NaN : Number(JSON.parse(raw));
    return Number.isFinite(n) ? n : null;
  }

  /** The listing thumbnail of an image; one per image, so enqueueing twice is a no-op. */
  enqueueThumbnail(imageId: string, requestId?: string): Promise<string> {
    return this.add({ name: JobName.Thumbnail, data: { imageId, requestId } }, { jobId: jobIds.thumbnail(imageId) });
  }

  /** Deletion of a storage_cleanups prefix; storage may be down for a while, so it retries longer. */
  enqueueStorageCleanup(cleanupId: string): Promise<string> {
    return this.add(
      { name: JobName.StorageCleanup, data: { cleanupId } },
      { jobId: jobIds.storageCleanup(cleanupId), attempts: 10, backoff: { type: 'exponential', delay: 2000 } },
    );
  }

  /**
   * One webhook delivery. Its attempts follow WEBHOOK_RETRY_SCHEDULE (the first entry is
   * the delay of the first attempt); the id makes a re-enqueue of a known delivery a no-op.
   * `traceparent`: the message row's, when the reconciler enqueues it again outside any trace.
   */
  enqueueWebhookDelivery(deliveryId: string, requestId?: string, traceparent?: string): Promise<string> {
    const [first = 0, ...retries] = this.config.webhooks.retryScheduleSeconds;
    return this.add(
      { name: JobName.WebhookDelivery, data: { deliveryId, requestId, ...(traceparent ? { traceparent } : {}) } },
      {
        jobId: jobIds.webhookDelivery(deliveryId),
        delay: first * 1000,
        attempts: retries.length + 1,
        backoff: { type: WEBHOOK_BACKOFF },
        removeOnComplete: { age: 3600, count: 10000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
  }

  /** Resolves with the job's result once it completes; rejects on failure or timeout. */
  async waitFor<N extends JobName>(name: N, jobId: string, timeoutMs: number): Promise<JobResults[N]> {
    const queueName = JOB_QUEUE[name];
    const job = await this.queue(queueName).getJob(jobId);
    if (!job) throw new Error(`job ${jobId} not found`);
    return job.waitUntilFinished(await this.queueEvents(queueName), timeoutMs);
  }

  /** One event reader per queue, opened on first use; concurrent first callers share it. */
  private queueEvents(name: QueueName): Promise<QueueEvents> {
    let ev = this.events.get(name);
    if (!ev) {
      ev = this.openQueueEvents(name);
      this.events.set(name, ev);
      ev.catch(() => this.events.delete(name)); // the next caller tries again
    }
    return ev;
  }

  private async openQueueEvents(name: QueueName): Promise<QueueEvents> {
    const connection = createRedisConnection(this.config.redis.url, 'worker', `events:${name}`);
    this.eventConnections.push(connection);
    // Read from the stream's current tail, not from '$': BullMQ keeps '$' until the first
    // event arrives, so every event written between two of its blocking reads on a quiet
    // queue (and any before its first read) would be skipped. A concrete id loses none.
    const queue = this.queue(name);
    const [tail] = await this.connection.xrevrange(queue.keys.events, '+', '-', 'COUNT', 1);
    const ev = new QueueEvents(name, {
      connection,
      prefix: this.config.redis.queuePrefix,
      lastEventId: tail?.[0] ?? '0-0',
    });
    ev.on('error', () => undefined);
    this.openedEvents.push(ev);
    await ev.waitUntilReady();
    return ev;
  }

  async onApplicationShutdown(): Promise<void> {
    // An event reader that never reached Redis (down since boot) would wait for it forever on close:
    // its connection is dropped below either way.
    const closing = (async () => {
      await Promise.allSettled(this.events.values()); // readers still opening are closed too
      await Promise.allSettled(this.openedEvents.map((e) => e.close()));
    })();
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.connection.disconnect();
    this.eventConnections.forEach((c) => c.disconnect());
  }
}
