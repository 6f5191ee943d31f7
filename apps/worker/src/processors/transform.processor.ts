import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { DomainException, isRetryableCode, ValidationFailedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { ImageRepository, JobEntity, RenderSource } from '@pixmill/db';
import {
  CanonicalTransformationSpec,
  ImagingService,
  InputFormat,
  operationChain,
  outputExtension,
  RenderSpecException,
  TransformationSpec,
} from '@pixmill/imaging';
import { JobLifecycle } from '@pixmill/jobs';
import { JobDataOf, JobName, JobResults } from '@pixmill/queue';
import { derivativeKey, IMMUTABLE_CACHE_CONTROL, StorageDriver } from '@pixmill/storage';
import { withSpan } from '@pixmill/tracing';
import { JobProcessor, JobReport, Processes } from '../job-processor.decorator';
import { overCapDelayMs } from '../over-cap-delay.util';

type Result = JobResults[JobName.Transform];
type TransformJob = Job<JobDataOf<JobName.Transform>, Result>;

/** Reported once the render is done and its output is being stored (one queue write per job, not one per step). */
const PROGRESS_RENDERED = 80;
/**
 * Renders quicker than this report no progress: the job is final a few milliseconds later, so
 * no one could see the 80 %, and the queue write would cost a round trip on the hot path.
 */
const PROGRESS_AFTER_MS = 1000;
/** Past the lease of the run holding a job, how long a second run waits before it looks again. */
const BUSY_MARGIN_MS = 250;
/** How long a job found over its owner's running cap waits before it is looked at again, at most. */
const OVER_CAP_MAX_DELAY_MS = 5000;

/**
 * Renders the derivative of one job row: the row is the truth (its canonical spec
 * is rendered exactly), the BullMQ job only says "work on row X". Safe to run again
 * after a crash at any point: the derivative key is content-addressed by spec hash
 * and its row is recorded once per (image, spec hash). Every state change goes through
 * JobLifecycle: one statement to start (with the image and any derivative already made),
 * progress in the queue only, one statement to finish.
 */
@Injectable()
@Processes(JobName.Transform)
export class TransformProcessor implements JobProcessor<JobName.Transform> {
  constructor(
    private readonly lifecycle: JobLifecycle,
    private readonly images: ImageRepository,
    private readonly storage: StorageDriver,
    private readonly imaging: ImagingService,
    private readonly config: AppConfig,
  ) {}

  async process(job: TransformJob, report: JobReport, token?: string): Promise<Result> {
    // A row that is gone, final or canceled (deleting an image cancels its pending jobs) is not started.
    const started = await this.lifecycle.start(job.data.jobId, token ?? `run:${randomUUID()}`);
    if (started.outcome === 'gone') return { skipped: 'job deleted, finished or canceled' };
    if (started.outcome === 'busy') {
      // Another run still holds it (Redis lost or stalled the lock and the job was handed out again):
      // this one looks again when that run's lease ends: by then the job is final, or its run is dead.
      await job.moveToDelayed(Date.now() + started.retryInMs + BUSY_MARGIN_MS, token);
      throw new DelayedError();
    }
    if (started.outcome === 'over_cap') {
      // Its owner's plan caps running jobs (off by default): back to the queue for a moment, same priority.
      const timesOverCap = job.data.overCap ?? 0;
      await job.updateData({ ...job.data, overCap: timesOverCap + 1 });
      await job.moveToDelayed(Date.now() + overCapDelayMs(timesOverCap, OVER_CAP_MAX_DELAY_MS), token);
      throw new DelayedError();
    }
    const { job: row, image, derivativeId } = started;
    const spec = row.spec as unknown as CanonicalTransformationSpec;
    Object.assign(report, {
      imageId: row.imageId ?? undefined,
      userId: row.userId,
      attempts: row.attempts,
      requestId: row.requestId ?? undefined,
      ops: operationChain(spec),
      format: spec.output?.format,
    });
    if (!image) return { skipped: 'image deleted' }; // not reached: deleting an image cancels its jobs first

    // A previous attempt may have stored and recorded the derivative, then died before the job was marked.
    if (derivativeId) {
      await this.lifecycle.succeedWith(row.id, derivativeId);
      return { derivativeId };
    }

    try {
      return await this.renderAndStore(job, row, image, report.ops!);
    } catch (err) {
      if (!(err instanceof DomainException) || isRetryableCode(err.code)) throw err;
      // Recorded before UnrecoverableError is thrown: if this write fails, the attempt is retried instead.
      await this.lifecycle.fail(row.id, err.code, err.message);
      report.errorCode = err.code;
      throw new UnrecoverableError(`${err.code}: ${err.message}`);
    }
  }

  /** `ops`: the spec's operation chain, as the run's report already names it. */
  private async renderAndStore(job: TransformJob, row: JobEntity, image: RenderSource, ops: string): Promise<Result> {
    const began = performance.now();
    const [original, watermarkImages] = await Promise.all([this.storage.getBuffer(image.storageKey), this.loadWatermarks(row)]);

    const spec = row.spec as unknown as CanonicalTransformationSpec;
    // The render span's attributes name what was asked (ops, as the metrics label them) and what came out.
    const result = await withSpan(
      'render',
      { attributes: { 'pixmill.render.ops': ops, 'pixmill.render.input_format': image.format, 'pixmill.render.input_bytes': original.length } },
      async (span) => {
        const out = await this.imaging.render(original, row.spec as unknown as TransformationSpec, {
          inputFormat: image.format as InputFormat,
          maxInputPixels: this.config.limits.maxInputPixels,
          maxOutputPixels: this.config.limits.maxOutputPixels,
          maxOutputFrames: this.config.limits.maxOutputFrames,
          watermarkImages,
        });
        span.setAttributes({
          'pixmill.render.format': out.format,
          'pixmill.render.bytes': out.bytes,
          'pixmill.render.width': out.width,
          'pixmill.render.height': out.height,
          'pixmill.render.frames': out.pages,
          // Over every frame, as MAX_OUTPUT_PIXELS counts them.
          'pixmill.render.pixels': out.width * out.height * out.pages,
        });
        return out;
      },
    );
    if (performance.now() - began >= PROGRESS_AFTER_MS) await this.lifecycle.progress(job, PROGRESS_RENDERED);

    const key = derivativeKey(image.userId, image.id, row.specHash, outputExtension(result.format));
    await withSpan('storage put', { attributes: { 'pixmill.storage.driver': this.storage.kind, 'pixmill.storage.key': key, 'pixmill.storage.bytes': result.bytes } }, () =>
      this.storage.put(key, result.data, { contentType: result.mimeType, cacheControl: IMMUTABLE_CACHE_CONTROL }),
    );
    const outcome = await this.lifecycle.succeed(row.id, {
      imageId: image.id,
      userId: image.userId,
      specHash: row.specHash,
      spec: row.spec,
      storageKey: key,
      format: result.format,
      mimeType: result.mimeType,
      width: result.width,
      height: result.height,
      bytes: result.bytes,
    });
    if ('imageGone' in outcome) {
      // Deleted while rendering: the cleanup job may already have run, so remove what we wrote.
      await this.storage.delete(key);
      return { skipped: 'image deleted' };
    }
    return { derivativeId: outcome.derivativeId };
  }

  /**
   * Watermark sources by image id. Ownership was checked at submission; it is checked
   * again here because the row, not the request, is what gets rendered.
   */
  private async loadWatermarks(row: JobEntity): Promise<Record<string, Buffer>> {
    const operations = (row.spec as { operations?: Array<{ op: string; imageId?: string }> }).operations ?? [];
    const sources: Record<string, Buffer> = {};
    for (const [i, op] of operations.entries()) {
      if (op.op !== 'watermark' || op.imageId === undefined || sources[op.imageId]) continue;
      const source = ImageRepository.isId(op.imageId) ? await this.images.findById(op.imageId) : null;
      if (!source) throw new RenderSpecException(`The watermark image ${op.imageId} no longer exists.`);
      if (source.userId !== row.userId) {
        throw new ValidationFailedException(
          [{ field: `operations[${i}].imageId`, message: 'no image of yours has this id' }],
          'The watermark image is not one of yours.',
        );
      }
      sources[op.imageId] = await this.storage.getBuffer(source.storageKey);
    }
    return sources;
  }
}
