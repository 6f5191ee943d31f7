import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DomainException, FieldError, IdempotencyConflictException, ValidationFailedException } from '@pixmill/common';
import { DerivativeEntity, DerivativeRepository, ImageEntity, ImageRepository, JobEntity, JobRepository, NewJob } from '@pixmill/db';
import { canonicalSpec, checkSpecFits, InputFormat, parseQuerySpec, parseSpec, specHash, TransformationSpec } from '@pixmill/imaging';
import { AppConfig } from '@pixmill/config';
import { JobStateRecorder } from '@pixmill/events';
import { JobDispatcher } from '@pixmill/queue';
import { ImagesService } from '../images/images.service';
import { DailyQuotaService } from '../quota/daily-quota.service';
import { WebhookUrlPolicy } from '../webhooks/webhook-url.policy';
import { MAX_EAGER } from './transformation.limits';

/** Distinct webhookUrls one render in flight reports to (requests for the same render each add theirs). */
const MAX_WEBHOOK_URLS_PER_JOB = 10;

/** One eager spec's outcome: its job, or why it was not queued. */
export interface EagerSubmission {
  jobId: string | null;
  error: { code: string; message: string } | null;
}

export interface Submission {
  job: JobEntity;
  /** True when this request created the job (202), false when it found an existing one. */
  created: boolean;
}

/**
 * Accepts transformation requests. The job row is written first and is the
 * truth; the BullMQ job carries the same id, so enqueueing twice is harmless.
 * One image and one spec hash make at most one render: a partial unique index
 * lets only one queued/active job exist, and an existing derivative is a cache hit.
 */
@Injectable()
export class TransformationsService {
  constructor(
    private readonly images: ImagesService,
    private readonly imageRows: ImageRepository,
    private readonly jobs: JobRepository,
    private readonly derivatives: DerivativeRepository,
    private readonly dispatcher: JobDispatcher,
    private readonly quota: DailyQuotaService, // daily transform quota (abuse protection)
    private readonly states: JobStateRecorder,
    private readonly webhookUrls: WebhookUrlPolicy,
    private readonly config: AppConfig,
  ) {}

  /** Validates a JSON body: a spec plus an optional webhookUrl (SSRF-checked). */
  async parseBody(body: unknown): Promise<{ spec: TransformationSpec; webhookUrl?: string }> {
    if (body && typeof body === 'object' && 'webhookUrl' in body) {
      const { webhookUrl, ...rest } = body as Record<string, unknown>;
      const spec = parseSpec(rest);
      return { spec, webhookUrl: await this.webhookUrls.check(webhookUrl, 'webhookUrl') };
    }
    return { spec: parseSpec(body) };
  }

  /** Validates an on-the-fly query (SPEC §4 query syntax) plus an optional webhookUrl (SSRF-checked). */
  async parseQuery(params: URLSearchParams): Promise<{ spec: TransformationSpec; webhookUrl?: string }> {
    const spec = parseQuerySpec(params);
    const raw = params.get('webhookUrl');
    return raw === null ? { spec } : { spec, webhookUrl: await this.webhookUrls.check(raw, 'webhookUrl') };
  }

  /** The stored derivative of this spec, if it was rendered already (no job row is written). */
  async existingDerivative(userId: string, imageId: string, spec: TransformationSpec): Promise<DerivativeEntity | null> {
    const image = await this.images.getOwned(userId, imageId);
    return this.derivatives.find(image.id, specHash(spec, image.format as InputFormat));
  }

  async submit(
    userId: string,
    imageId: string,
    spec: TransformationSpec,
    opts: { idempotencyKey?: string; requestId?: string; webhookUrl?: string | null } = {},
  ): Promise<Submission> {
    const image = await this.images.getOwned(userId, imageId);
    await this.checkWatermarkSources(userId, spec);
    const format = image.format as InputFormat;
    // A spec that cannot fit this image is refused now, not left to become a failed job (and cost a quota unit).
    checkSpecFits(spec, { format, width: image.width, height: image.height, pages: image.pages }, this.config.limits);
    const hash = specHash(spec, format);
    const newJob: NewJob = {
      id: randomUUID(),
      userId,
      imageId: image.id,
      specHash: hash,
      spec: canonicalSpec(spec, format) as unknown as Record<string, unknown>,
      idempotencyKey: opts.idempotencyKey ?? null,
      requestHash: opts.idempotencyKey ? createHash('sha256').update(`${image.id}:${hash}`).digest('hex') : null,
      requestId: opts.requestId ?? null,
      webhookUrl: opts.webhookUrl ?? null,
    };

    if (opts.idempotencyKey) {
      const replay = await this.jobs.findByIdempotencyKey(userId, opts.idempotencyKey);
      if (replay) return this.replay(replay, newJob.requestHash!);
    }
    // Two passes: a job that finishes between our insert attempt and our lookup leaves a derivative instead.
    for (let pass = 0; pass < 3; pass++) {
      const derivative = await this.derivatives.find(image.id, hash);
      if (derivative) {
        const cached = await this.states.cached(newJob, derivative.id);
        if (cached) return { job: cached, created: false };
      } else {
        // Daily transform quota (abuse protection): only a newly inserted job costs a unit; see DailyQuotaService.
        const queued = await this.quota.chargeNewRender(
          userId,
          () => this.jobs.insertQueued(newJob),
          async () => (await this.jobs.findInFlight(image.id, hash)) !== null,
        );
        if (queued) {
          await this.enqueue(queued);
          return { job: queued, created: true };
        }
        const inFlight = await this.jobs.findInFlight(image.id, hash);
        const joined = inFlight && (await this.join(inFlight, newJob.webhookUrl));
        if (joined) return { job: joined, created: false };
      }
      if (opts.idempotencyKey) {
        const replay = await this.jobs.findByIdempotencyKey(userId, opts.idempotencyKey);
        if (replay) return this.replay(replay, newJob.requestHash!);
      }
    }
    throw new Error(`could not settle a job for image ${image.id} spec ${hash}`);
  }

  /**
   * A request that joins a render already in flight: its webhookUrl is added to the
   * job's, so every request that asked is told when the render ends. Null when the job
   * finished meanwhile (the caller looks again and finds the derivative).
   */
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
    return null;
  }

  private replay(job: JobEntity, requestHash: string): Submission {
    if (job.requestHash !== requestHash) throw new IdempotencyConflictException();
    return { job, created: false };
  }

  /**
   * The new row enters the queue when one of its user's slots is free (fair scheduling,
   * docs/decisions/008). A row left undispatched or unenqueued (PostgreSQL or Redis down)
   * is picked up by the worker's reconciler, so nothing is lost.
   */
  private async enqueue(job: JobEntity): Promise<void> {
    await this.dispatcher.dispatch(job.userId).catch(() => undefined);
  }

  /**
   * The `eager` field of a multipart upload, as text: a JSON array of specs, each
   * validated (watermark sources included) before the upload is accepted.
   */
  async parseEager(userId: string, raw: string): Promise<TransformationSpec[]> {
    let list: unknown;
    try {
      list = JSON.parse(raw);
    } catch {
      throw new ValidationFailedException([{ field: 'eager', message: 'eager must be a JSON array of transformation specs' }]);
    }
    return this.parseEagerList(userId, list);
  }

  /** Eager specs, each validated (watermark sources must be the user's); every error is listed. */
  async parseEagerList(userId: string, list: unknown): Promise<TransformationSpec[]> {
    if (!Array.isArray(list) || list.length > MAX_EAGER) {
      throw new ValidationFailedException([{ field: 'eager', message: `eager must be a JSON array of at most ${MAX_EAGER} specs` }]);
    }
    const specs: TransformationSpec[] = [];
    const errors: FieldError[] = [];
    for (const [i, item] of list.entries()) {
      try {
        const spec = parseSpec(item);
        await this.checkWatermarkSources(userId, spec);
        specs.push(spec);
      } catch (err) {
        if (!(err instanceof ValidationFailedException)) throw err;
        errors.push(...(err.errors ?? []).map((e) => ({ field: `eager[${i}].${e.field}`, message: e.message })));
      }
    }
    if (errors.length) throw new ValidationFailedException(errors);
    return specs;
  }

  /**
   * Queues an upload's eager renders once its image exists. The image is kept
   * whatever happens to them: a refused render (the daily quota, a watermark
   * source deleted meanwhile) is reported in its place in the list.
   */
  async submitEager(
    userId: string,
    imageId: string,
    specs: TransformationSpec[],
    opts: { requestId?: string; webhookUrl?: string | null },
  ): Promise<EagerSubmission[]> {
    const results: EagerSubmission[] = [];
    for (const spec of specs) {
      try {
        const { job } = await this.submit(userId, imageId, spec, opts);
        results.push({ jobId: job.id, error: null });
      } catch (err) {
        if (!(err instanceof DomainException)) throw err;
        results.push({ jobId: null, error: { code: err.code, message: err.message } });
      }
    }
    return results;
  }

  private async checkWatermarkSources(userId: string, spec: TransformationSpec): Promise<void> {
    const errors: FieldError[] = [];
    for (const [i, op] of spec.operations.entries()) {
      if (op.op === 'watermark' && op.imageId) {
        const source: ImageEntity | null = await this.imageRows.findOwned(userId, op.imageId);
        if (!source) errors.push({ field: `operations[${i}].imageId`, message: 'no image of yours has this id' });
      }
    }
    if (errors.length) throw new ValidationFailedException(errors);
  }
}
