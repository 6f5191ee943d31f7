import { Injectable } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { DomainException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { ImageRepository } from '@pixmill/db';
import { ImagingService, InputFormat } from '@pixmill/imaging';
import { JobName, JobResults, ThumbnailJobData } from '@pixmill/queue';
import { derivativeKey, IMMUTABLE_CACHE_CONTROL, StorageDriver } from '@pixmill/storage';
import { JobProcessor, Processes } from '../job-processor.decorator';

type Result = JobResults[JobName.Thumbnail];

/** Renders the 256 px WebP listing thumbnail of an uploaded image. */
@Injectable()
@Processes(JobName.Thumbnail)
export class ThumbnailProcessor implements JobProcessor<ThumbnailJobData, Result> {
  constructor(
    private readonly images: ImageRepository,
    private readonly storage: StorageDriver,
    private readonly imaging: ImagingService,
    private readonly config: AppConfig,
  ) {}

  async process(job: Job<ThumbnailJobData>): Promise<Result> {
    const image = await this.images.findById(job.data.imageId);
    if (!image) return { skipped: 'image deleted' };
    const original = await this.storage.getBuffer(image.storageKey); // storage faults throw → retried
    let thumb;
    try {
      thumb = await this.imaging.renderThumbnail(original, image.format as InputFormat, {
        maxInputPixels: this.config.limits.maxInputPixels,
      });
    } catch (err) {
      // Input that does not decode will not decode on a retry either.
      if (err instanceof DomainException) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    }
    const key = derivativeKey(image.userId, image.id, 'thumbnail-256', 'webp');
    await this.storage.put(key, thumb.data, { contentType: 'image/webp', cacheControl: IMMUTABLE_CACHE_CONTROL });
    if (!(await this.images.setThumbnail(image.id, key))) {
      // Deleted while rendering: the cleanup job may already have run, so remove what we wrote.
      await this.storage.delete(key);
      return { skipped: 'image deleted' };
    }
    return { key, bytes: thumb.bytes };
  }
}
