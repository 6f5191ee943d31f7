import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NotFoundException } from '@pixmill/common';
import { DerivativeRepository, ImageEntity, ImageRepository, StorageCleanupRepository, UserRepository } from '@pixmill/db';
import { JobDispatcher, JobQueue } from '@pixmill/queue';
import { DeliveryUrlService, imagePrefix } from '@pixmill/storage';
import { decodeCursor, encodeCursor } from '../common/cursor.util';
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
    private readonly dispatcher: JobDispatcher,
  ) {}

  async toDto(image: ImageEntity): Promise<ImageDto> {
    const [original, thumbnail] = await Promise.all([
      this.delivery.urlFor(image.storageKey),
      image.thumbnailKey ? this.delivery.urlFor(image.thumbnailKey) : null,
    ]);
    return {
      id: image.id,
      filename: image.filename,
      format: image.format,
      mimeType: image.mimeType,
      width: image.width,
      height: image.height,
      bytes: image.bytes,
      pages: image.pages,
      sha256: image.sha256,
      // Every image route is owner-only, so the owner's GPS position is included here.
      exif: image.exif || image.gps ? { ...(image.exif ?? {}), ...(image.gps ? { gps: image.gps } : {}) } : null,
      createdAt: image.createdAt.toISOString(),
      urls: { original, thumbnail },
    };
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
   * Rows go now, in one transaction with the storage accounting and a cleanup
   * record; the objects are deleted by a retried job. If the enqueue fails, the
   * cleanup record stays and the reconciler enqueues it later.
   */
  async delete(userId: string, id: string): Promise<void> {
    const cleanupId = await this.ds.transaction(async (em) => {
      const gone = await this.images.deleteOwned(userId, id, em);
      if (!gone) throw new NotFoundException('Image');
      await this.users.releaseStorage(userId, gone.bytes, em);
      return this.cleanups.add(imagePrefix(userId, id), 'image deleted', em);
    });
    await this.jobs.enqueueStorageCleanup(cleanupId).catch(() => undefined);
    // The image's jobs went with it; any that were dispatched held slots the user's other jobs can take.
    await this.dispatcher.dispatch(userId).catch(() => undefined);
  }
}
