import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { DataSource, QueryRunner } from 'typeorm';
import { AppConfig } from '@pixmill/config';
import {
  DerivativeRepository,
  ImageRepository,
  ThumbnailScanPosition,
  JobScanPosition,
  JobEntity,
  JobRepository,
  StorageCleanupRepository,
  UploadRepository,
  UserRepository,
  WebhookDeliveryRepository,
} from '@pixmill/db';
import { JobLifecycle } from '@pixmill/jobs';
import { jobIds, JobQueue, QueueName } from '@pixmill/queue';
import { StorageDriver } from '@pixmill/storage';
import { renderFailedMessage } from './final-failure.util';
import { WorkerMetrics } from './worker-metrics.service';

/** Key of the PostgreSQL advisory lock whose holder is the reconciler leader ("PIXMRC"). */
export const RECONCILER_LOCK_KEY = 0x50_49_58_4d_52_43;
/** Rows younger than this may still be on their way into the queue (row first, then enqueue): jobs and images. */
const IN_FLIGHT_GRACE_SECONDS = 5;
/** Jobs in flight looked at per pass. */
const TRANSFORM_PAGE = 500;
/** Images without a thumbnail looked at per pass. */
const THUMBNAIL_PAGE = 500;
/** A cleanup row older than this should have run by now; its job was probably lost. */
const STALE_CLEANUP_SECONDS = 60;
/** A webhook delivery this overdue was probably never enqueued (crash after commit) or lost with Redis. */
const OVERDUE_DELIVERY_SECONDS = 10;
/** After a direct upload's URL expires, how long before its reservation and object are released. */
const ABANDONED_UPLOAD_GRACE_SECONDS = 300;

/**
 * PostgreSQL is the truth, Redis only carries work (SPEC §1). Every
 * RECONCILE_INTERVAL_MS one worker compares the two and repairs the queues:
 *
 * - a transform job the database says is queued/active but BullMQ does not know
 *   (Redis lost its data, or the API's enqueue failed) is enqueued again under its
 *   own id, so this is idempotent;
 * - one BullMQ finished while the row still says in flight gets its row settled
 *   (completed → succeeded with its derivative; failed → failed, internal_error);
 * - a user whose queued jobs have waited undispatched past the grace period gets
 *   their free slots filled (a crash between insert and dispatch, or a slot freed
 *   where no dispatch ran; docs/decisions/008);
 * - an image still without a thumbnail past the grace period whose thumbnail job BullMQ
 *   does not know is enqueued again under the same id (one whose original does not decode
 *   is marked on its row by the processor and left alone);
 * - a storage cleanup whose job was lost is enqueued again;
 * - a webhook delivery still pending well after its attempt was due is enqueued again
 *   (the outbox row was committed but its process died before the enqueue, or Redis
 *   lost the job); a delivery BullMQ holds waiting, delayed or active is left to it, and
 *   one BullMQ finished while its row stayed pending is removed from BullMQ first.
 *
 * Leadership is a session-level PostgreSQL advisory lock held on one dedicated
 * connection, not a Redis lease: the reconciler exists for the day Redis loses its
 * data, and a lease kept in that same Redis would vanish with it. The lock also ends
 * the moment its holder dies (the server drops the session when the socket closes),
 * so another worker takes over on its next tick instead of waiting out a TTL.
 * Two leaders for a moment would be harmless anyway: every action is idempotent.
 * (A session lock needs a session-pooled connection: behind PgBouncer in transaction
 * mode, point the worker at PostgreSQL directly.)
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  /** The connection that holds the lock while this process leads; undefined otherwise. */
  private lockHolder?: QueryRunner;
  private timer?: NodeJS.Timeout;
  private tickInHand: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Where the scan for images without a thumbnail goes on next pass (undefined: from the oldest). */
  private thumbnailCursor?: ThumbnailScanPosition;
  /** Where the scan of jobs in flight goes on next pass (undefined: from the oldest). */
  private transformCursor?: JobScanPosition;
  private readonly leaderGauge: Gauge;
  private readonly repaired: Counter;

  constructor(
    private readonly config: AppConfig,
    private readonly ds: DataSource,
    private readonly jobs: JobRepository,
    private readonly derivatives: DerivativeRepository,
    private readonly cleanups: StorageCleanupRepository,
    private readonly queues: JobQueue,
    private readonly uploads: UploadRepository,
    private readonly images: ImageRepository,
    private readonly users: UserRepository,
    private readonly storage: StorageDriver,
    private readonly lifecycle: JobLifecycle,
    private readonly webhookDeliveries: WebhookDeliveryRepository,
    metrics: WorkerMetrics,
  ) {
    this.leaderGauge = new Gauge({
      name: 'pixmill_reconciler_leader',
      help: '1 while this worker process is the elected reconciler.',
      registers: [metrics.registry],
    });
    this.repaired = new Counter({
      name: 'pixmill_reconciler_repairs_total',
      help: 'Jobs the reconciler re-enqueued or whose rows it settled, by queue and action.',
      labelNames: ['queue', 'action'],
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    // First tick right away: a worker started after Redis lost its data should not wait a full interval.
    this.schedule(0);
  }

  /**
   * Before, not on, application shutdown: the lock is released through the DataSource,
   * which DbModule closes in its own onApplicationShutdown.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tickInHand;
    await this.resign();
  }

  /** One tick at a time: the next is scheduled only when this one has finished. */
  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.reconcileOnce().finally(() => this.schedule(this.config.worker.reconcileIntervalMs));
    }, delayMs);
  }

  /**
   * One pass now, after the one in hand (never beside it); true when this process leads
   * and made a whole pass (false when it does not lead, or the pass failed part way).
   * The timer calls this; tests call it to repair without waiting.
   */
  reconcileOnce(): Promise<boolean> {
    const pass = this.tickInHand.then(() => this.tick());
    this.tickInHand = pass.then(() => undefined);
    return pass;
  }

  private async tick(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      if (!(await this.lead())) return false;
      await this.reconcileTransforms();
      await this.reconcileThumbnails();
      await this.reconcileCleanups();
      await this.reconcileWebhookDeliveries();
      await this.expireAbandonedUploads();
    } catch (err) {
      // Redis or PostgreSQL down: nothing to repair with; try again next tick.
      this.logger.warn(`reconcile tick failed: ${(err as Error).message}`);
      return false;
    }
    return true;
  }

  /** True while this process holds the lock; takes it when free. */
  private async lead(): Promise<boolean> {
    if (this.lockHolder) {
      try {
        await this.lockHolder.query('SELECT 1'); // the session is alive, so the lock is still ours
        return true;
      } catch (err) {
        this.logger.warn(`reconciler leadership lost: ${(err as Error).message}`);
        await this.resign();
      }
    }
    const runner = this.ds.createQueryRunner();
    try {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [RECONCILER_LOCK_KEY]);
      if (locked) {
        this.lockHolder = runner;
        this.leaderGauge.set(1);
        this.logger.log(`reconciler leader elected: worker ${process.pid}`);
        return true;
      }
    } catch (err) {
      await runner.release();
      throw err;
    }
    await runner.release();
    return false;
  }

  /** Unlocks before the connection goes back to the pool: a pooled session must not keep the lock. */
  private async resign(): Promise<void> {
    const runner = this.lockHolder;
    if (!runner) return;
    this.lockHolder = undefined;
    this.leaderGauge.set(0);
    await runner.query('SELECT pg_advisory_unlock($1)', [RECONCILER_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }

  private async reconcileTransforms(): Promise<void> {
    const queue = this.queues.queue(QueueName.Transform);
    // A page per pass, going on from where the last one ended: a backlog the queue holds fills the
    // first pages, and a row behind it that the queue lost must still be found.
    const rows = await this.jobs.inFlight(IN_FLIGHT_GRACE_SECONDS, TRANSFORM_PAGE, this.transformCursor);
    const last = rows[rows.length - 1];
    this.transformCursor = rows.length < TRANSFORM_PAGE ? undefined : { id: last.id, createdAt: last.scanAt };
    // The states are read together: one pipelined exchange with Redis, not one round trip per job.
    const states = await Promise.all(rows.map((row) => queue.getJobState(row.id)));
    let requeued = 0;
    for (const [i, row] of rows.entries()) {
      if (this.stopped) return;
      const state = states[i];
      if (state === 'unknown') {
        if (await this.lifecycle.enqueue(row)) {
          this.repaired.inc({ queue: QueueName.Transform, action: 'enqueued' });
          requeued++;
        }
      } else if (state === 'completed') {
        await this.settleCompleted(row);
      } else if (state === 'failed') {
        // Failed for good without the row saying so: the worker's final-failure write was lost,
        // or the job stalled more often than BullMQ allows (its worker died again and again).
        const failedReason = (await queue.getJob(row.id))?.failedReason;
        if (await this.lifecycle.failInternal(row.id, renderFailedMessage(row.attempts, failedReason))) {
          this.repaired.inc({ queue: QueueName.Transform, action: 'failed' });
        }
      }
      // waiting, delayed, prioritized, active: BullMQ has it in hand.
    }
    if (requeued) this.logger.log(`re-enqueued ${requeued} transform job(s) the queue did not know`);
  }

  private async settleCompleted(row: JobEntity): Promise<void> {
    const derivative = row.imageId ? await this.derivatives.find(row.imageId, row.specHash) : null;
    if (derivative) {
      if (await this.lifecycle.succeedWith(row.id, derivative.id)) {
        this.repaired.inc({ queue: QueueName.Transform, action: 'succeeded' });
      }
      return;
    }
    // Completed without a derivative (it skipped): the finished BullMQ job would make a
    // re-add under the same id a no-op, so remove it and let the row run again.
    await this.queues.queue(QueueName.Transform).remove(row.id);
    if (await this.lifecycle.enqueue(row)) this.repaired.inc({ queue: QueueName.Transform, action: 'enqueued' });
  }

  /**
   * Images whose thumbnail job was lost (Redis lost its data, or the job was evicted) get it
   * again under the same id. A thumbnail that can never be made is not among them: the
   * processor marks its row when the original does not decode, and that mark, not BullMQ's
   * failed job, is what keeps it out, since the failed job is dropped after a day
   * (removeOnFail) or with Redis, and then the image would be enqueued again, fail again,
   * and hold a place in every batch. A job that failed for other reasons (storage down
   * through all its attempts) is left alone while BullMQ keeps it and enqueued again once
   * BullMQ has dropped it: one more round of attempts a day, not one per tick.
   */
  private async reconcileThumbnails(): Promise<void> {
    const queue = this.queues.queue(QueueName.Transform);
    // A page per pass, going on from where the last one ended: images the queue still holds
    // (a failed job is kept a day) would otherwise fill every page and hide newer losses.
    const page = await this.images.missingThumbnail(IN_FLIGHT_GRACE_SECONDS, THUMBNAIL_PAGE, this.thumbnailCursor);
    this.thumbnailCursor = page.length < THUMBNAIL_PAGE ? undefined : page[page.length - 1];
    // The states are read together: one pipelined exchange with Redis, not one round trip per image.
    const states = await Promise.all(page.map(({ id }) => queue.getJobState(jobIds.thumbnail(id))));
    let requeued = 0;
    for (const [i, { id }] of page.entries()) {
      if (this.stopped) return;
      // Completed without recording a thumbnail: a re-add under the same id would be a no-op.
      if (states[i] === 'completed') await queue.remove(jobIds.thumbnail(id));
      else if (states[i] !== 'unknown') continue; // waiting, delayed, active, or failed (see above)
      await this.queues.enqueueThumbnail(id);
      requeued++;
    }
    if (requeued) {
      this.repaired.inc({ queue: QueueName.Transform, action: 'thumbnail_enqueued' }, requeued);
      this.logger.log(`re-enqueued ${requeued} thumbnail job(s) the queue did not know`);
    }
  }

  /**
   * A presigned upload that was never completed holds a quota reservation and maybe
   * an object: once its URL has expired (plus a grace period), both are released.
   */
  private async expireAbandonedUploads(): Promise<void> {
    for (const upload of await this.uploads.expireAbandoned(ABANDONED_UPLOAD_GRACE_SECONDS)) {
      await this.storage.delete(upload.storageKey);
      await this.users.releaseStorage(upload.userId, upload.reservedBytes);
      this.repaired.inc({ queue: 'uploads', action: 'expired' });
    }
  }

  private async reconcileCleanups(): Promise<void> {
    const queue = this.queues.queue(QueueName.Cleanup);
    for (const { id } of await this.cleanups.stale(STALE_CLEANUP_SECONDS)) {
      if (this.stopped) return;
      const jobId = jobIds.storageCleanup(id);
      // A failed cleanup job stays in BullMQ for a day (removeOnFail); after that it is retried from here.
      if ((await queue.getJobState(jobId)) !== 'unknown') continue;
      await this.queues.enqueueStorageCleanup(id);
      this.repaired.inc({ queue: QueueName.Cleanup, action: 'enqueued' });
    }
  }

  private async reconcileWebhookDeliveries(): Promise<void> {
    const queue = this.queues.queue(QueueName.Webhook);
    let requeued = 0;
    for (const { id, traceparent } of await this.webhookDeliveries.overdue(OVERDUE_DELIVERY_SECONDS)) {
      if (this.stopped) return;
      const jobId = jobIds.webhookDelivery(id);
      const state = await queue.getJobState(jobId);
      if (state === 'completed' || state === 'failed') {
        // BullMQ is done with it but the row still says pending: BullMQ ran out of attempts
        // before the row's schedule did (an attempt that failed before it was recorded, a
        // job failed for stalling), or the row was set pending again. A re-add under the same
        // id would be a no-op, so the finished job goes first; the processor counts attempts
        // on the row and decides whether to send again or give up.
        await queue.remove(jobId);
      } else if (state !== 'unknown') continue; // waiting, delayed or active: BullMQ has it in hand
      // The message's trace context goes with it: its delivery joins the trace of the work that wrote it.
      await this.queues.enqueueWebhookDelivery(id, undefined, traceparent ?? undefined);
      requeued++;
    }
    if (requeued) {
      this.repaired.inc({ queue: QueueName.Webhook, action: 'enqueued' }, requeued);
      this.logger.log(`enqueued ${requeued} overdue webhook deliver${requeued === 1 ? 'y' : 'ies'}`);
    }
  }
}
