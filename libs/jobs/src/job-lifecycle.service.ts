import { Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { DataSource, EntityManager } from 'typeorm';
import { DailyQuotaExceededException, IdempotencyConflictException, NotFoundException, ValidationFailedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { CanceledJob, DerivativeRepository, pgErrorCode, JobEntity, JobRepository, NewDerivative, NewJob, RunLease, StartOutcome } from '@pixmill/db';
import { JobViewBuilder, PendingDeliveries, WebhookOutbox } from '@pixmill/events';
import { JobQueue } from '@pixmill/queue';
import { JobEngineMetrics, ToleratedAction } from './job-engine.metrics';
import { JobFinalWatcher } from './job-final.watcher';
import { JobNotCancelableException } from './job-not-cancelable.exception';
import { secondsUntilUtcMidnight } from './utc-day.util';

/** Distinct webhookUrls one render in flight reports to (requests for the same render each add theirs). */
export const MAX_WEBHOOK_URLS_PER_JOB = 10;

export interface Submission {
  job: JobEntity;
  /** True when this request created the job (202), false when it found an existing one. */
  created: boolean;
}

/** How a render attempt that stored its output ended. */
export type SuccessOutcome = { job: JobEntity | null; derivativeId: string } | { imageGone: true };

type FinalEvent = 'job.succeeded' | 'job.failed';

/** PostgreSQL foreign_key_violation: the image row went away under us. */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * The one owner of a transformation job's state (docs/decisions/016). Every transition —
 * submit (with join, cache hit and idempotent replay), start, progress, succeed, fail,
 * cancel (by the user, by deleting the image), hand back — goes through here, each as one
 * statement or one transaction that changes the row, the quota ledger and the webhook
 * outbox together. The queue is told after the commit; when that fails, the failure is
 * logged with the job id and a stable code and counted
 * (pixmill_job_after_commit_failures_total), and the reconciler repairs the queue from the rows.
 *
 * Controllers, processors and the reconciler call this; none of them writes job rows.
 */
@Injectable()
export class JobLifecycle {
  private readonly logger = new Logger('JobLifecycle');
  private readonly dailyLimitByPlan: Record<string, number>;
  private readonly runningCapByPlan: Record<string, number>;
  /** How long a start holds its job without renewal: BullMQ's lock duration, so both lapse together when a worker dies. */
  readonly leaseMs: number;

  constructor(
    private readonly ds: DataSource,
    private readonly jobs: JobRepository,
    private readonly derivatives: DerivativeRepository,
    private readonly queue: JobQueue,
    private readonly views: JobViewBuilder,
    private readonly outbox: WebhookOutbox,
    private readonly metrics: JobEngineMetrics,
    private readonly finals: JobFinalWatcher,
    config: AppConfig,
  ) {
    const plans = Object.entries(config.plans);
    this.dailyLimitByPlan = Object.fromEntries(plans.map(([plan, l]) => [plan, l.dailyTransforms]));
    this.runningCapByPlan = Object.fromEntries(plans.filter(([, l]) => l.maxRunningJobs > 0).map(([plan, l]) => [plan, l.maxRunningJobs]));
    this.leaseMs = config.worker.lockDurationMs;
  }

  /**
   * A transformation request. A new render is one statement (quota unit, row, fair round)
   * and then its enqueue; a render that exists is a cache hit (a job created succeeded, no
   * unit); one in flight is joined (the request's webhookUrl is added to it); a used
   * Idempotency-Key replays its job. Races settle within three passes: a job that finishes
   * between two looks leaves a derivative, which the next pass finds.
   */
  async submit(job: NewJob): Promise<Submission> {
    if (job.idempotencyKey) {
      const replay = await this.replay(job);
      if (replay) return replay;
    }
    for (let pass = 0; pass < 3; pass++) {
      const listening = this.finals.listening();
      const r = await this.submitRow(job);
      if (r.outcome === 'no_user') throw new NotFoundException('Account');
      if (r.outcome === 'created') {
        this.counted('submit', true);
        this.finals.expect(r.job, listening);
        await this.enqueue(r.job);
        return { job: r.job, created: true };
      }
      if (r.outcome === 'cached') {
        const cached = await this.recordFinal('cached', (em, unwatched) => this.jobs.insertCached(job, r.derivativeId, em, unwatched), 'job.succeeded');
        if (cached) return { job: cached, created: false };
      }
      // Nothing inserted. A used Idempotency-Key answers with its own job (or a conflict), never by joining another.
      if (job.idempotencyKey) {
        const replay = await this.replay(job);
        if (replay) return replay;
      }
      if (r.outcome !== 'cached') {
        // conflict or quota_exceeded: a request that joins a render in flight costs nothing.
        const inFlight = await this.jobs.findInFlight(job.imageId, job.specHash);
        const joined = inFlight && (await this.join(inFlight, job.webhookUrl));
        if (joined) return { job: joined, created: false };
      }
      if (r.outcome === 'quota_exceeded') throw new DailyQuotaExceededException(secondsUntilUtcMidnight());
    }
    throw new Error(`could not settle a job for image ${job.imageId} spec ${job.specHash}`);
  }

  /** One pass of submit_job(); an image deleted since the caller read it is not found. */
  private async submitRow(job: NewJob): ReturnType<JobRepository['submit']> {
    try {
      return await this.jobs.submit(job, this.dailyLimitByPlan);
    } catch (err) {
      if (pgErrorCode(err) === FOREIGN_KEY_VIOLATION) throw new NotFoundException('Image');
      throw err;
    }
  }

  /**
   * Run `runToken` (its BullMQ lock token) takes job `jobId`: queued|active → active,
   * counting the attempt, in one round trip that also returns the image and an existing
   * derivative (a previous attempt that stored and recorded it, then died). The job is
   * leased to the run for `leaseMs`: while another run that is still alive holds it (Redis
   * lost or stalled its lock and the job was handed out again), the answer is `busy` and
   * nothing renders twice. `over_cap` when the owner's plan caps running jobs
   * (PLAN_*_MAX_RUNNING_JOBS, off by default) and that many run.
   */
  async start(jobId: string, runToken: string): Promise<StartOutcome> {
    const r = await this.jobs.start(jobId, this.runningCapByPlan, runToken, this.leaseMs);
    this.counted('start', r.outcome === 'started');
    if (r.outcome === 'busy') this.counted('start_busy', true);
    return r;
  }

  /**
   * An attempt that threw ends its lease, so BullMQ's retry (a new run, with a new token) starts
   * at once instead of waiting it out. A failure here is logged and counted: the retry then waits
   * until the lease lapses.
   */
  async endAttempt(run: RunLease): Promise<void> {
    try {
      await this.jobs.releaseLeases([run]);
    } catch (err) {
      this.metrics.afterCommitFailures.inc({ action: 'hand_back', code: 'lease_release_failed' });
      this.logger.warn({ msg: 'job lease not released after a failed attempt; its retry starts once it lapses', code: 'lease_release_failed', jobId: run.jobId, error: (err as Error).message });
    }
  }

  /** Keeps the leases of the renders a worker has in hand (one statement for all of them); how many it still holds. */
  renewLeases(runs: RunLease[]): Promise<number> {
    return this.jobs.renewLeases(runs, this.leaseMs);
  }

  /**
   * A render's progress goes to BullMQ only (GET /v1/jobs/{id} reads it there while the job
   * is active): no PostgreSQL write per step. A failure is tolerated, logged and counted.
   */
  async progress(job: Job, progress: number): Promise<void> {
    await this.tolerate('progress', job.id!, () => job.updateProgress(progress));
  }

  /**
   * The render is stored: records its derivative and marks the job succeeded, in one
   * statement when nobody watches job.succeeded, else in a transaction with the outbox
   * message. `imageGone` when the image was deleted meanwhile (the caller removes the object).
   */
  async succeed(jobId: string, derivative: NewDerivative): Promise<SuccessOutcome> {
    let recorded: { derivativeId: string | null; job: JobEntity | null };
    try {
      recorded = await this.jobs.recordSuccess(jobId, derivative, 'job.succeeded');
    } catch (err) {
      if (pgErrorCode(err) === FOREIGN_KEY_VIOLATION) return { imageGone: true };
      throw err;
    }
    if (recorded.job) {
      this.counted('succeed', true);
      return { job: recorded.job, derivativeId: recorded.derivativeId! };
    }
    const derivativeId = recorded.derivativeId ?? (await this.derivatives.find(derivative.imageId, derivative.specHash))?.id;
    if (!derivativeId) return { imageGone: true }; // the derivative went with its image between the two statements
    return { job: await this.succeedWith(jobId, derivativeId), derivativeId };
  }

  /** queued|active → succeeded with a derivative that exists (a retry that finds it, or the reconciler). Null when already final. */
  succeedWith(jobId: string, derivativeId: string): Promise<JobEntity | null> {
    return this.recordFinal('succeed', (em, unwatched) => this.jobs.markSucceeded(jobId, derivativeId, em, unwatched), 'job.succeeded');
  }

  /** A permanent failure of the input or spec (the user's): recorded with its code; the quota unit stays spent. */
  fail(jobId: string, code: string, message: string): Promise<JobEntity | null> {
    return this.recordFinal('fail', (em, unwatched) => this.jobs.markFailed(jobId, { code, message, refund: false }, em, unwatched), 'job.failed');
  }

  /**
   * A failure of Pixmill's own (retries exhausted, work lost): `internal_error`, and the
   * daily unit goes back in the same statement, so however many paths report it (the
   * worker's last attempt, the reconciler) the job fails and is refunded once.
   */
  failInternal(jobId: string, message: string): Promise<JobEntity | null> {
    return this.recordFinal(
      'fail_internal',
      (em, unwatched) => this.jobs.markFailed(jobId, { code: 'internal_error', message, refund: true }, em, unwatched),
      'job.failed',
    );
  }

  /** DELETE /v1/jobs/{id}: a queued job is canceled and refunded in one statement, then taken out of the queue. */
  async cancel(userId: string, jobId: string): Promise<JobEntity> {
    const canceled = await this.jobs.cancelQueued(userId, jobId);
    this.counted('cancel', !!canceled);
    if (!canceled) {
      const now = await this.jobs.findById(jobId);
      if (!now || now.userId !== userId) throw new NotFoundException('Job');
      throw new JobNotCancelableException(now.status);
    }
    // The row says canceled, so a worker that still picks the job up does not start it.
    await this.tolerate('remove', jobId, () => this.queue.removeTransform(jobId));
    return canceled;
  }

  /**
   * Inside the transaction that deletes an image: its pending jobs are canceled (those that
   * never started refunded) and its finished jobs deleted. Call afterImageJobsCanceled once
   * the transaction has committed.
   */
  async cancelForImage(em: EntityManager, userId: string, imageId: string): Promise<CanceledJob[]> {
    const canceled = await this.jobs.cancelForImage(userId, imageId, em);
    for (const _ of canceled) this.counted('cancel_for_image', true);
    return canceled;
  }

  /**
   * Inside the transaction that deletes an account: every job of it in flight is canceled
   * (a worker that still picks one up finds no row to start; one rendering finds its image
   * gone and removes what it stored). Call afterImageJobsCanceled once it has committed.
   */
  async cancelForAccount(em: EntityManager, userId: string): Promise<CanceledJob[]> {
    const canceled = await this.jobs.cancelForAccount(userId, em);
    for (const _ of canceled) this.counted('cancel_for_account', true);
    return canceled;
  }

  /** After the commit of cancelForImage or cancelForAccount: the canceled jobs leave the queue. */
  async afterImageJobsCanceled(canceled: CanceledJob[]): Promise<void> {
    for (const { id } of canceled) await this.tolerate('remove', id, () => this.queue.removeTransform(id));
  }

  /**
   * Puts jobs in hand back at the front of their queues (a worker's grace period is over):
   * another worker starts them now instead of after their locks expire. Their run leases
   * are released (one statement), nothing else is written: the attempt neither failed nor
   * succeeded, and the next attempt takes the row over.
   */
  async handBack(inHand: Array<{ job: Job; token: string | undefined }>): Promise<Job[]> {
    // Their leases end first, so the next worker starts them at once instead of waiting them out.
    const runs = inHand.filter(({ job, token }) => token && job.data?.jobId).map(({ job, token }) => ({ jobId: job.data.jobId as string, runToken: token! }));
    try {
      await this.jobs.releaseLeases(runs);
    } catch (err) {
      this.metrics.afterCommitFailures.inc({ action: 'hand_back', code: 'lease_release_failed' });
      this.logger.warn({ msg: 'job leases not released; the next run starts once they lapse', code: 'lease_release_failed', jobs: runs.map((r) => r.jobId), error: (err as Error).message });
    }
    const handedBack: Job[] = [];
    for (const { job, token } of inHand) {
      const ok = await this.tolerate('hand_back', `${job.queueName}/${job.id}`, () => job.moveToWait(token));
      if (ok) handedBack.push(job);
    }
    return handedBack;
  }

  /** (Re-)enqueues a row in flight under its own id and fair priority (submission; the reconciler). Tolerated: the reconciler retries. */
  async enqueue(job: JobEntity): Promise<boolean> {
    return this.tolerate('enqueue', job.id, () => this.queue.enqueueTransform(job));
  }

  private async join(job: JobEntity, webhookUrl: string | null | undefined): Promise<JobEntity | null> {
    if (!webhookUrl || job.webhookUrls.includes(webhookUrl)) return job;
    const joined = await this.jobs.addWebhookUrl(job.id, webhookUrl, MAX_WEBHOOK_URLS_PER_JOB);
    if (joined) return joined;
    const now = await this.jobs.findById(job.id);
    if (now && (now.status === 'queued' || now.status === 'active')) {
      throw new ValidationFailedException(
        [{ field: 'webhookUrl', message: `this render already reports to ${MAX_WEBHOOK_URLS_PER_JOB} webhook URLs` }],
        'Too many webhook URLs for one render; register an endpoint (POST /v1/webhook-endpoints) to hear of every job.',
      );
    }
    return null; // finished meanwhile: the caller looks again and finds the derivative
  }

  private async replay(job: NewJob): Promise<Submission | null> {
    const found = await this.jobs.findByIdempotencyKey(job.userId, job.idempotencyKey!);
    if (!found) return null;
    if (found.requestHash !== job.requestHash) throw new IdempotencyConflictException();
    return { job: found, created: false };
  }

  /**
   * A final state: first the write alone, on the condition that nobody watches its event
   * (most jobs): one round trip, no message. When that changes nothing (someone watches, or
   * the job is final already), the transaction that writes it with its outbox message.
   * The row when this call made the change, null otherwise.
   */
  private async recordFinal(
    transition: string,
    write: (em: EntityManager, unwatched?: string) => Promise<JobEntity | null>,
    type: FinalEvent,
  ): Promise<JobEntity | null> {
    const quiet = await write(this.ds.manager, type);
    if (quiet) {
      this.counted(transition, true);
      return quiet;
    }
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
    this.counted(transition, !!row);
    await this.outbox.enqueue(pending);
    return row;
  }

  /** Runs a queue operation that follows a committed transition; a failure is logged with its code and counted, and false returned. */
  private async tolerate(action: ToleratedAction, jobId: string, op: () => Promise<unknown>): Promise<boolean> {
    try {
      await op();
      return true;
    } catch (err) {
      const code = `queue_${action}_failed`;
      this.metrics.afterCommitFailures.inc({ action, code });
      this.logger.warn({ msg: `job ${action} not done in the queue; the reconciler repairs it from the row`, code, jobId, error: (err as Error).message });
      return false;
    }
  }

  private counted(transition: string, applied: boolean): void {
    this.metrics.transitions.inc({ transition, outcome: applied ? 'applied' : 'noop' });
  }
}
