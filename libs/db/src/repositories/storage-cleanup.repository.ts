import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** The outbox of storage deletions: a row per prefix still to be removed from object storage. */
@Injectable()
export class StorageCleanupRepository {
  constructor(private readonly ds: DataSource) {}

  async add(prefix: string, reason: string, em: EntityManager = this.ds.manager): Promise<string> {
    const [row] = await em.query(`INSERT INTO storage_cleanups (prefix, reason) VALUES ($1, $2) RETURNING id`, [prefix, reason]);
    return row.id;
  }

  async find(id: string): Promise<{ id: string; prefix: string } | null> {
    const rows = await this.ds.query(`SELECT id, prefix FROM storage_cleanups WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async done(id: string): Promise<void> {
    await this.ds.query(`DELETE FROM storage_cleanups WHERE id = $1`, [id]);
  }

  /** Cleanups older than `olderThanSeconds` (their job was lost, e.g. Redis was down). */
  async stale(olderThanSeconds: number, limit = 100): Promise<Array<{ id: string }>> {
    return this.ds.query(
      `SELECT id FROM storage_cleanups WHERE created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2`,
      [olderThanSeconds, limit],
    );
  }
}
