import { Injectable } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { DomainException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { DataSource } from 'typeorm';
import { ImageRepository } from '@pixmill/db';
import { ImageViewBuilder, PendingDeliveries, WebhookOutbox } from '@pixmill/events';
import { ImagingService, InputFormat } from '@pixmill/imaging';
import { JobName, JobResults, ThumbnailJobData } from '@pixmill/queue';
import { derivativeKey, IMMUTABLE_CACHE_CONTROL, StorageDriver } from '@pixmill/storage';
import { JobProcessor, JobReport, Processes } from '../job-processor.decorator';

type Result = JobResults[JobName.Thumbnail];

/**
 * Renders the 256 px WebP listing thumbnail of an uploaded image. Recording it is
 * the image's last step, so it is also where image.ready is emitted.
 */
@Injectable()
@Processes(JobName.Thumbnail)
export class ThumbnailProcessor implements JobProcessor<JobName.Thumbnail> {
  constructor(
    private readonly images: ImageRepository,
    private readonly storage: StorageDriver,
    private readonly imaging: ImagingService,
    private readonly config: AppConfig,
    private readonly ds: DataSource,
    private readonly views: ImageViewBuilder,
    private readonly outbox: WebhookOutbox,
  ) {}

  async process(job: Job<ThumbnailJobData>, report: JobReport): Promise<Result> {
    report.imageId = job.data.imageId;
    const image = await this.images.findById(job.data.imageId);
    if (!image) return { skipped: 'image deleted' };
    report.userId = image.userId;
    const original = await this.storage.getBuffer(image.storageKey); // storage faults throw → retried
    let thumb;
    try {
      thumb = await this.imaging.renderThumbnail(original, image.format as InputFormat, {
        maxInputPixels: this.config.limits.maxInputPixels,
      });
    } catch (err) {
      // Input that does not decode will not decode on a retry either. Recorded on the row,
      // so the reconciler does not enqueue it again once BullMQ has dropped the failed job;
      // if that write fails, the plain error lets BullMQ retry and record it next time.
      if (err instanceof DomainException) {
        const reason = `${err.code}: ${err.message}`;
        await this.images.markThumbnailFailed(image.id, reason);
        report.errorCode = err.code;
        throw new UnrecoverableError(reason);
      }
      throw err;
    }
    const placeholder = await this.imaging.placeholder(thumb.data);
    const key = derivativeKey(image.userId, image.id, 'thumbnail-256', 'webp');
    await this.storage.put(key, thumb.data, { contentType: 'image/webp', cacheControl: IMMUTABLE_CACHE_CONTROL });
    let pending: PendingDeliveries = { ids: [] };
    const recorded = await this.ds.transaction(async (em) => {
      const set = await this.images.setThumbnail(image.id, key, em, placeholder);
      if (set === 'missing') return false;
      // A retry after a lost acknowledgement finds the thumbnail already set: no second image.ready.
      if (set === 'again') return true;
      const ready = (await this.images.findById(image.id, em))!;
      pending = await this.outbox.record(em, {
        userId: ready.userId,
        type: 'image.ready',
        data: () => this.views.build(ready, { includeGps: false }),
        urls: ready.webhookUrl ? [ready.webhookUrl] : [],
        imageId: ready.id,
        requestId: job.data.requestId,
      });
      return true;
    });
    if (!recorded) {
      // Deleted while rendering: the cleanup job may already have run, so remove what we wrote.
      await this.storage.delete(key);
      return { skipped: 'image deleted' };
    }
    await this.outbox.enqueue(pending);
    return { key, bytes: thumb.bytes };
  }
}
