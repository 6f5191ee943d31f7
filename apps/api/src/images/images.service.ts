import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NotFoundException } from '@pixmill/common';
import { CanceledJob, DerivativeRepository, ImageEntity, ImageRepository, StorageCleanupRepository, UserRepository } from '@pixmill/db';
import { ImageViewBuilder, PendingDeliveries, WebhookOutbox } from '@pixmill/events';
import { JobLifecycle } from '@pixmill/jobs';
import { JobQueue } from '@pixmill/queue';
import { DeliveryUrlService, imagePrefix } from '@pixmill/storage';
import { decodeCursor, encodeCursor } from '../common/cursor.util';
import { DerivativeDto, ImageDto, ImagePageDto } from './dto/image.dto';
import { ImageFacts, ImageFactsMemo } from './image-facts.memo';

@Injectable()
export class ImagesService {
  private readonly logger = new Logger('ImagesService');

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
    private readonly lifecycle: JobLifecycle,
    private readonly facts: ImageFactsMemo,
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

  /** The owner's image's immutable facts (ImageFactsMemo), for transformation requests; 404 for another user's. */
  async getFacts(userId: string, id: string): Promise<ImageFacts> {
    return this.facts.recall(userId, id) ?? this.facts.remember(await this.getOwned(userId, id));
  }

  /**
   * Any user's image's immutable facts (ImageFactsMemo), for the public /i/ route; null for
   * no such image. A remembered image may have been deleted since: the route reads the row
   * as well (ImageRepository.cachedRead) before it answers.
   */
  async publicFacts(id: string): Promise<ImageFacts | null> {
    const known = this.facts.recallAny(id);
    if (known) return known;
    const image = await this.images.findAnyCached(id);
    return image ? this.facts.remember(image) : null;
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
   * Rows go now, in one transaction with the storage accounting, the cancellation of the
   * image's pending jobs (JobLifecycle: refunds included), a cleanup record and the
   * image.deleted message; the objects are deleted by a retried job. If an enqueue fails,
   * its row stays and the reconciler enqueues it later.
   */
  async delete(userId: string, id: string, requestId?: string): Promise<void> {
    let pending: PendingDeliveries = { ids: [] };
    let canceled: CanceledJob[] = [];
    const cleanupId = await this.ds.transaction(async (em) => {
      // The user row first, as a submission takes it (then the image, through its job's foreign
      // key), so the two cannot deadlock; the image lock keeps new jobs of it out until the commit.
      await this.users.lockForUpdate(userId, em);
      if (!(await this.images.lockOwned(userId, id, em))) throw new NotFoundException('Image');
      canceled = await this.lifecycle.cancelForImage(em, userId, id);
      const gone = (await this.images.deleteOwned(userId, id, em))!;
      await this.users.releaseStorage(userId, gone.bytes, em);
      pending = await this.outbox.record(em, {
        userId,
        type: 'image.deleted',
        data: () => this.views.build(gone, { includeGps: false, includeUrls: false }),
        urls: gone.webhookUrl ? [gone.webhookUrl] : [],
        imageId: gone.id,
        requestId,
      });
      return this.cleanups.add(imagePrefix(userId, id), 'image deleted', em);
    });
    this.facts.forget(id);
    await this.outbox.enqueue(pending);
    await this.lifecycle.afterImageJobsCanceled(canceled);
    try {
      await this.jobs.enqueueStorageCleanup(cleanupId);
    } catch (err) {
      // The cleanup row is the truth: the reconciler enqueues a cleanup whose job was lost.
      this.logger.warn({ msg: 'storage cleanup not enqueued; the reconciler will', code: 'queue_enqueue_failed', cleanupId, error: (err as Error).message });
    }
  }
}
