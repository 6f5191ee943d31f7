import { Injectable } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { DomainException, ValidationFailedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { DerivativeRepository, ImageEntity, ImageRepository, JobEntity, JobRepository } from '@pixmill/db';
import { JobStateRecorder } from '@pixmill/events';
import {
  CanonicalTransformationSpec,
  ImagingService,
  InputFormat,
  operationChain,
  outputExtension,
  RenderSpecException,
  TransformationSpec,
} from '@pixmill/imaging';
import { JobName, JobResults, TransformJobData } from '@pixmill/queue';
import { derivativeKey, IMMUTABLE_CACHE_CONTROL, StorageDriver } from '@pixmill/storage';
import { JobProcessor, JobReport, Processes } from '../job-processor.decorator';

type Result = JobResults[JobName.Transform];

/**
 * Codes of failures that the same input would hit again on every retry: the row is
 * marked failed with the code and BullMQ is told not to retry. Any other error
 * (storage, network, database, even a DomainException such as `unavailable`) is
 * transient and is thrown as is, so BullMQ retries it with backoff.
 */
const PERMANENT_CODES = new Set([
  'image_corrupt',
  'image_too_large',
  'spec_not_applicable',
  'unsupported_media_type',
  'validation_failed',
]);

const PROGRESS_LOADED = 10;
const PROGRESS_RENDERED = 80;

/** PostgreSQL foreign_key_violation: the image row went away under us. */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * Renders the derivative of one job row: the row is the truth (its canonical spec
 * is rendered exactly), the BullMQ job only says "work on row X". Safe to run again
 * after a crash at any point: the derivative key is content-addressed by spec hash
 * and its row is recorded once per (image, spec hash).
 */
@Injectable()
@Processes(JobName.Transform)
export class TransformProcessor implements JobProcessor<TransformJobData, Result> {
  constructor(
    private readonly jobs: JobRepository,
    private readonly images: ImageRepository,
    private readonly derivatives: DerivativeRepository,
    private readonly storage: StorageDriver,
    private readonly imaging: ImagingService,
    private readonly config: AppConfig,
    private readonly states: JobStateRecorder,
  ) {}

  async process(job: Job<TransformJobData>, report: JobReport): Promise<Result> {
    // One conditional UPDATE that also counts the attempt: a row that is gone, final or canceled
    // (deleting an image cancels its pending jobs) is not started.
    const row = await this.jobs.markActive(job.data.jobId);
    if (!row) return { skipped: 'job deleted, finished or canceled' };
    if (!row.imageId) return { skipped: 'image deleted' }; // not reached: deleting an image cancels its jobs first
    const spec = row.spec as unknown as CanonicalTransformationSpec;
    Object.assign(report, {
      imageId: row.imageId,
      userId: row.userId,
      attempts: row.attempts,
      requestId: row.requestId ?? undefined,
      ops: operationChain(spec),
      format: spec.output?.format,
    });

    // A previous attempt may have stored and recorded the derivative, then died before markSucceeded.
    const existing = await this.derivatives.find(row.imageId, row.specHash);
    if (existing) return this.succeed(row, existing.id);

    const image = await this.images.findById(row.imageId);
    if (!image) return { skipped: 'image deleted' };

    try {
      return await this.renderAndStore(job, row, image);
    } catch (err) {
      if (!(err instanceof DomainException) || !PERMANENT_CODES.has(err.code)) throw err;
      // Recorded before UnrecoverableError is thrown: if this write fails, the attempt is retried instead.
      await this.states.failed(row.id, err.code, err.message);
      report.errorCode = err.code;
      throw new UnrecoverableError(`${err.code}: ${err.message}`);
    }
  }

  private async renderAndStore(job: Job<TransformJobData>, row: JobEntity, image: ImageEntity): Promise<Result> {
    const original = await this.storage.getBuffer(image.storageKey);
    const watermarkImages = await this.loadWatermarks(row);
    await this.progress(job, row.id, PROGRESS_LOADED);

    const result = await this.imaging.render(original, row.spec as unknown as TransformationSpec, {
      inputFormat: image.format as InputFormat,
      maxInputPixels: this.config.limits.maxInputPixels,
      maxOutputPixels: this.config.limits.maxOutputPixels,
      watermarkImages,
    });
    await this.progress(job, row.id, PROGRESS_RENDERED);

    const key = derivativeKey(image.userId, image.id, row.specHash, outputExtension(result.format));
    await this.storage.put(key, result.data, { contentType: result.mimeType, cacheControl: IMMUTABLE_CACHE_CONTROL });
    let derivativeId: string;
    try {
      const derivative = await this.derivatives.record({
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
      derivativeId = derivative.id;
    } catch (err) {
      if ((err as { driverError?: { code?: string } }).driverError?.code !== FOREIGN_KEY_VIOLATION) throw err;
      // Deleted while rendering: the cleanup job may already have run, so remove what we wrote.
      await this.storage.delete(key);
      return { skipped: 'image deleted' };
    }
    return this.succeed(row, derivativeId);
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

  private async progress(job: Job<TransformJobData>, jobId: string, progress: number): Promise<void> {
    await Promise.all([job.updateProgress(progress), this.jobs.setProgress(jobId, progress)]);
  }

  private async succeed(row: JobEntity, derivativeId: string): Promise<Result> {
    await this.states.succeeded(row.id, derivativeId);
    return { derivativeId };
  }
}
