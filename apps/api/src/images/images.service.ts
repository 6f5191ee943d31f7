import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NotFoundException } from '@pixmill/common';
import { CanceledJob, DerivativeRepository, ImageEntity, ImageRepository, StorageCleanupRepository, UserRepository } from '@pixmill/db';
import { ImageViewBuilder, PendingDeliveries, WebhookOutbox } from '@pixmill/events';
import { JobDispatcher, JobQueue } from '@pixmill/queue';
import { DeliveryUrlService, imagePrefix } from '@pixmill/storage';
import { decodeCursor, encodeCursor } from '../common/cursor.util';
import { DailyQuotaService } from '../quota/daily-quota.service';
import { DerivativeDto, ImageDto, ImagePageDto } from './dto/image.dto';

@Injectable()
export class ImagesService {
  constructor(
    private readonly ds: DataSource,
    private readonly images: ImageRepository,
    private readonly users: UserRepository,
    private readonly cleanups: StorageCleanupRepository,
    private readonly delivery: DeliveryUrlService,
    private readonly jobs: JobQueue,
    private readonly derivativeRows: DerivativeRepository,
    private readonly views: ImageViewBuilder,
    private readonly outbox: WebhookOutbox,
    private readonly dispatcher: JobDispatcher,
    private readonly quota: DailyQuotaService,
  ) {}

  /** The owner's own view: every image route is owner-only, so the GPS position is included. */
  async toDto(image: ImageEntity): Promise<ImageDto> {
    return (await this.views.build(image, { includeGps: true })) as ImageDto;
  }

  async derivatives(userId: string, id: string): Promise<DerivativeDto[]> {
    const image = await this.getOwned(userId, id);
    const rows = await this.derivativeRows.listForImage(image.id);
    return Promise.all(
      rows.map(async (d) => ({
        id: d.id,
        specHash: d.specHash,
        spec: d.spec,
        format: d.format,
        mimeType: d.mimeType,
        width: d.width,
        height: d.height,
        bytes: d.bytes,
        url: await this.delivery.urlFor(d.storageKey),
        createdAt: d.createdAt.toISOString(),
      })),
    );
  }

  async getOwned(userId: string, id: string): Promise<ImageEntity> {
    const image = await this.images.findOwned(userId, id);
    if (!image) throw new NotFoundException('Image');
    return image;
  }

  async list(userId: string, q: { limit?: number; cursor?: string; page?: number }): Promise<ImagePageDto> {
    const limit = q.limit ?? 20;
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const { items, hasMore } = await this.images.list(userId, { limit, after, page: q.page });
    const last = items[items.length - 1];
    return {
      items: await Promise.all(items.map((i) => this.toDto(i))),
      nextCursor: hasMore && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  /**
   * Rows go now, in one transaction with the storage accounting, a cleanup record
   * and the image.deleted message; the objects are deleted by a retried job. If an
   * enqueue fails, its row stays and the reconciler enqueues it later.
   */
  async delete(userId: string, id: string, requestId?: string): Promise<void> {
    let pending: PendingDeliveries = { ids: [] };
    let canceled: CanceledJob[] = [];
    const cleanupId = await this.ds.transaction(async (em) => {
      const gone = await this.images.deleteOwned(userId, id, em);
      if (!gone) throw new NotFoundException('Image');
      await this.users.releaseStorage(userId, gone.bytes, em);
      pending = await this.outbox.record(em, {
        userId,
        type: 'image.deleted',
        data: () => this.views.build(gone, { includeGps: false, includeUrls: false }),
        urls: gone.webhookUrl ? [gone.webhookUrl] : [],
        imageId: gone.id,
        requestId,
      });
      canceled = gone.canceledJobs;
      return this.cleanups.add(imagePrefix(userId, id), 'image deleted', em);
    });
    await this.outbox.enqueue(pending);
    await this.jobs.enqueueStorageCleanup(cleanupId).catch(() => undefined);
    // Its pending jobs were canceled: those that never started rendering give their quota units back,
    // and any that were dispatched held slots the user's other jobs can take.
    for (const job of canceled.filter((j) => !j.started)) await this.quota.refundCanceled(userId, job.createdAt).catch(() => undefined);
    await this.dispatcher.dispatch(userId).catch(() => undefined);
  }
}
