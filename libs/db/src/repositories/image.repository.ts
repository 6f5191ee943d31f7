import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ImageEntity } from '../entities';
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

/** Images, always scoped to their owner: there is no way to read another user's row. */
@Injectable()
export class ImageRepository {
  constructor(private readonly ds: DataSource) {}

  static isId(id: string): boolean {
    return UUID.test(id);
  }

  async insert(image: Omit<ImageEntity, 'createdAt' | 'thumbnailKey'>, em: EntityManager = this.ds.manager): Promise<ImageEntity> {
    await em.getRepository(ImageEntity).insert({ ...image, thumbnailKey: null } as QueryDeepPartialEntity<ImageEntity>);
    return (await em.getRepository(ImageEntity).findOneByOrFail({ id: image.id }))!;
  }

  findOwned(userId: string, id: string): Promise<ImageEntity | null> {
    if (!ImageRepository.isId(id)) return Promise.resolve(null);
    return this.ds.getRepository(ImageEntity).findOneBy({ id, userId });
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
  async setThumbnail(id: string, key: string, em: EntityManager = this.ds.manager): Promise<'first' | 'again' | 'missing'> {
    const res = await em.query(
      `WITH old AS (SELECT id, thumbnail_key FROM images WHERE id = $1 FOR UPDATE)
       UPDATE images SET thumbnail_key = $2 FROM old WHERE images.id = old.id RETURNING old.thumbnail_key AS previous`,
      [id, key],
    );
    const rows = returnedRows<{ previous: string | null }>(res);
    if (!rows.length) return 'missing';
    return rows[0].previous === null ? 'first' : 'again';
  }

  /** Deletes the row and returns it, or null if the caller does not own such an image. */
  async deleteOwned(userId: string, id: string, em: EntityManager = this.ds.manager): Promise<ImageEntity | null> {
    if (!ImageRepository.isId(id)) return null;
    const rows = returnedRows<ImageEntity>(
      await em.query(`DELETE FROM images WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`, [id, userId]),
    );
    return rows.length ? { ...rows[0], bytes: Number(rows[0].bytes) } : null;
  }

  findById(id: string, em: EntityManager = this.ds.manager): Promise<ImageEntity | null> {
    return em.getRepository(ImageEntity).findOneBy({ id });
  }
}
