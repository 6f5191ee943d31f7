import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { CachedRead, ReadCache } from '../cache/read-cache.service';
import { ImageEntity, ImagePlaceholderColumn } from '../entities';
import { returnedRows } from '../sql.util';

export interface ImagePageQuery {
  limit: number;
  /** Keyset cursor: the last item of the previous page. */
  after?: { createdAt: Date; id: string };
  /** 1-based page number (offset pagination), used when no cursor is given. */
  page?: number;
}

const COLUMNS = `id, user_id AS "userId", filename, format, mime_type AS "mimeType", width, height, pages, bytes, sha256, exif, gps,
  storage_key AS "storageKey", thumbnail_key AS "thumbnailKey", webhook_url AS "webhookUrl", created_at AS "createdAt"`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** JSON keeps dates as strings; a cached image gets its Date back. */
function reviveImage(row: ImageEntity): ImageEntity {
  row.createdAt = new Date(row.createdAt);
  return row;
}

/** Where a scan of images without a thumbnail stands: created_at as PostgreSQL wrote it (to the microsecond), and id. */
export interface ThumbnailScanPosition {
  id: string;
  createdAt: string;
}

/**
 * Images, always scoped to their owner: there is no way to read another user's row.
 * Writes invalidate the read cache (ReadCache) after their statement, or after the
 * caller's transaction when they ran through its `em`; inserts need none.
 */
@Injectable()
export class ImageRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly cache: ReadCache,
  ) {}

  static isId(id: string): boolean {
    return UUID.test(id);
  }

  async insert(image: Omit<ImageEntity, 'createdAt' | 'thumbnailKey'>, em: EntityManager = this.ds.manager): Promise<ImageEntity> {
    await em.getRepository(ImageEntity).insert({ ...image, thumbnailKey: null } as QueryDeepPartialEntity<ImageEntity>);
    return (await em.getRepository(ImageEntity).findOneByOrFail({ id: image.id }))!;
  }

  /** The owner's image, through the read cache (another user's cached row is still null). */
  async findOwned(userId: string, id: string): Promise<ImageEntity | null> {
    if (!ImageRepository.isId(id)) return null;
    const image = await this.cache.readThrough('image', id, () => this.findById(id), reviveImage);
    return image && image.userId === userId ? image : null;
  }

  /** Any user's image by id, through the read cache (the public /i/ route learns the owner from it). */
  async findAnyCached(id: string): Promise<ImageEntity | null> {
    if (!ImageRepository.isId(id)) return null;
    const [image] = await this.cache.readAll([this.cachedRead(id)] as const);
    return image;
  }

  /** Any user's image by id as a read-cache read, to batch with others (`ReadCache.readAll`); `id` must be an id (isId). */
  cachedRead(id: string): CachedRead<ImageEntity> {
    return { kind: 'image', id, load: () => this.findById(id), revive: reviveImage };
  }

  /** Newest first; fetches one extra row to know whether there is a next page. */
  async list(userId: string, q: ImagePageQuery): Promise<{ items: ImageEntity[]; hasMore: boolean }> {
    const qb = this.ds
      .getRepository(ImageEntity)
      .createQueryBuilder('i')
      .where('i.user_id = :userId', { userId })
      .orderBy('i.created_at', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .limit(q.limit + 1);
    if (q.after) {
      qb.andWhere('(i.created_at, i.id) < (:t, :id)', { t: q.after.createdAt, id: q.after.id });
    } else if (q.page && q.page > 1) {
      qb.offset((q.page - 1) * q.limit);
    }
    const rows = await qb.getMany();
    return { items: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
  }

  /** 'first' when this call set the image's first thumbnail, 'again' when one was set already, 'missing' when the image is gone. */
  async setThumbnail(
    id: string,
    key: string,
    em: EntityManager = this.ds.manager,
    placeholder: ImagePlaceholderColumn | null = null,
  ): Promise<'first' | 'again' | 'missing'> {
    const res = await em.query(
      `WITH old AS (SELECT id, thumbnail_key FROM images WHERE id = $1 FOR UPDATE)
       UPDATE images SET thumbnail_key = $2, placeholder = COALESCE($3::jsonb, images.placeholder)
       FROM old WHERE images.id = old.id RETURNING old.thumbnail_key AS previous`,
      [id, key, placeholder === null ? null : JSON.stringify(placeholder)],
    );
    await this.cache.afterWrite('image', [id], em);
    const rows = returnedRows<{ previous: string | null }>(res);
    if (!rows.length) return 'missing';
    return rows[0].previous === null ? 'first' : 'again';
  }

  /**
   * The thumbnail can never be made (its original does not decode): recorded so the
   * reconciler stops enqueueing it. Only while there is no thumbnail, so a render that
   * succeeded meanwhile is not contradicted.
   */
  async markThumbnailFailed(id: string, reason: string): Promise<void> {
    await this.ds.query(`UPDATE images SET thumbnail_error = $2 WHERE id = $1 AND thumbnail_key IS NULL`, [id, reason]);
    await this.cache.afterWrite('image', [id]);
  }

  /**
   * Images still without a thumbnail `olderThanSeconds` after they were stored, oldest
   * first from `after` (a page of a scan that goes on where the last page ended), except
   * those whose thumbnail failed for good: their thumbnail job may have been lost with
   * Redis (the reconciler asks the queue).
   */
  async missingThumbnail(
    olderThanSeconds: number,
    limit: number,
    after?: ThumbnailScanPosition,
  ): Promise<Array<ThumbnailScanPosition>> {
    return this.ds.query(
      `SELECT id, created_at::text AS "createdAt" FROM images
        WHERE thumbnail_key IS NULL AND thumbnail_error IS NULL AND created_at < now() - make_interval(secs => $1)
          AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
        ORDER BY created_at, id LIMIT $2`,
      [olderThanSeconds, limit, after?.createdAt ?? null, after?.id ?? null],
    );
  }

  /**
   * Locks the owner's image row for the caller's transaction (deleting it): new jobs of
   * this image wait for the lock, so the jobs the transaction cancels next are all there
   * are. False when the caller owns no such image.
   */
  async lockOwned(userId: string, id: string, em: EntityManager): Promise<boolean> {
    if (!ImageRepository.isId(id)) return false;
    const locked = await em.query(`SELECT id FROM images WHERE id = $1 AND user_id = $2 FOR UPDATE`, [id, userId]);
    return locked.length > 0;
  }

  /**
   * Deletes the row and returns it. Deleting an image with jobs is ImagesService.delete's:
   * lockOwned, the jobs' cancellation, then this, in one transaction; alone (`em` omitted)
   * only for an image just inserted, which has none.
   */
  async deleteOwned(userId: string, id: string, em: EntityManager = this.ds.manager): Promise<ImageEntity | null> {
    const rows = returnedRows<ImageEntity>(
      await em.query(`DELETE FROM images WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`, [id, userId]),
    );
    await this.cache.afterWrite('image', [id], em);
    return rows.length ? { ...rows[0], bytes: Number(rows[0].bytes) } : null;
  }

  /** Deletes every image of an account (AccountDeletion: its jobs were canceled first), invalidated after the commit. */
  async deleteAllOfUser(userId: string, em: EntityManager): Promise<number> {
    const rows = returnedRows<{ id: string }>(await em.query(`DELETE FROM images WHERE user_id = $1 RETURNING id`, [userId]));
    await this.cache.afterWrite('image', rows.map((r) => r.id), em);
    return rows.length;
  }

  findById(id: string, em: EntityManager = this.ds.manager): Promise<ImageEntity | null> {
    return em.getRepository(ImageEntity).findOneBy({ id });
  }
}
