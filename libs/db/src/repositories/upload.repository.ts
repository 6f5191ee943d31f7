import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { UploadEntity } from '../entities';
import { returnedRows } from '../sql.util';

@Injectable()
export class UploadRepository {
  constructor(private readonly ds: DataSource) {}

  async insert(row: Omit<UploadEntity, 'id' | 'status' | 'createdAt'>): Promise<UploadEntity> {
    const [created] = await this.ds.query(
      `INSERT INTO uploads (user_id, image_id, storage_key, filename, content_type, reserved_bytes, expires_at, webhook_url, eager)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        row.userId,
        row.imageId,
        row.storageKey,
        row.filename,
        row.contentType,
        row.reservedBytes,
        row.expiresAt,
        row.webhookUrl,
        JSON.stringify(row.eager),
      ],
    );
    return (await this.ds.getRepository(UploadEntity).findOneBy({ id: created.id }))!;
  }

  findOwned(userId: string, id: string): Promise<UploadEntity | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return Promise.resolve(null);
    return this.ds.getRepository(UploadEntity).findOneBy({ id, userId });
  }

  async markFailed(id: string): Promise<void> {
    await this.ds.query(`UPDATE uploads SET status = 'failed' WHERE id = $1`, [id]);
  }

  /**
   * Direct uploads never completed, `graceSeconds` after their presigned URL expired:
   * marked failed in one statement, so each is returned to exactly one caller.
   */
  async expireAbandoned(graceSeconds: number, limit = 100): Promise<Array<{ id: string; userId: string; storageKey: string; reservedBytes: number }>> {
    const res = await this.ds.query(
      `UPDATE uploads SET status = 'failed'
        WHERE id IN (SELECT id FROM uploads WHERE status = 'pending' AND expires_at < now() - make_interval(secs => $1) LIMIT $2)
          AND status = 'pending'
        RETURNING id, user_id AS "userId", storage_key AS "storageKey", reserved_bytes AS "reservedBytes"`,
      [graceSeconds, limit],
    );
    return returnedRows<{ id: string; userId: string; storageKey: string; reservedBytes: string }>(res).map((r) => ({
      ...r,
      reservedBytes: Number(r.reservedBytes),
    }));
  }

  /** Moves a pending upload to a final status; false if another request finished it first. */
  async finish(id: string, status: 'completed' | 'failed'): Promise<boolean> {
    const res = await this.ds.query(`UPDATE uploads SET status = $2 WHERE id = $1 AND status = 'pending' RETURNING id`, [id, status]);
    return returnedRows(res).length > 0;
  }
}
