import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '../sql.util';

export interface WebhookEndpointRow {
  id: string;
  userId: string;
  url: string;
  events: string[];
  secret: string;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: Date;
}

const COLUMNS = `id, user_id AS "userId", url, events, secret, description, enabled, disabled_reason AS "disabledReason", created_at AS "createdAt"`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Registered webhook endpoints, always scoped to their owner. */
@Injectable()
export class WebhookEndpointRepository {
  constructor(private readonly ds: DataSource) {}

  async create(e: { userId: string; url: string; events: string[]; secret: string; description?: string | null }): Promise<WebhookEndpointRow> {
    const [row] = await this.ds.query(
      `INSERT INTO webhook_endpoints (user_id, url, events, secret, description) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [e.userId, e.url, e.events, e.secret, e.description ?? null],
    );
    return row;
  }

  async countForUser(userId: string): Promise<number> {
    const [row] = await this.ds.query(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE user_id = $1`, [userId]);
    return row.n;
  }

  async listForUser(userId: string): Promise<WebhookEndpointRow[]> {
    return this.ds.query(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, [userId]);
  }

  async findOwned(userId: string, id: string): Promise<WebhookEndpointRow | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.ds.query(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1 AND user_id = $2`, [id, userId]);
    return rows[0] ?? null;
  }

  async findById(id: string): Promise<WebhookEndpointRow | null> {
    const rows = await this.ds.query(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Enabled endpoints of a user that subscribe to `type`, read inside the caller's transaction. */
  async subscribers(userId: string, type: string, em: EntityManager = this.ds.manager): Promise<Array<{ id: string; url: string }>> {
    return em.query(`SELECT id, url FROM webhook_endpoints WHERE user_id = $1 AND enabled AND $2 = ANY(events) ORDER BY created_at, id`, [
      userId,
      type,
    ]);
  }

  async deleteOwned(userId: string, id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const res = await this.ds.query(`DELETE FROM webhook_endpoints WHERE id = $1 AND user_id = $2 RETURNING id`, [id, userId]);
    return returnedRows(res).length > 0;
  }

  /**
   * Changes what the owner gave: url, events, description, and whether it is enabled
   * (turning it on clears the reason it was turned off). The row, or null if not theirs.
   */
  async updateOwned(
    userId: string,
    id: string,
    change: { url?: string; events?: string[]; description?: string | null; enabled?: boolean },
  ): Promise<WebhookEndpointRow | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.ds.query(
      `WITH moved AS (
         -- Deliveries still to be made follow the endpoint to its new url; sent ones keep the url they went to.
         UPDATE webhook_deliveries SET url = $3
          WHERE $3::text IS NOT NULL AND status = 'pending'
            AND endpoint_id = (SELECT id FROM webhook_endpoints WHERE id = $1 AND user_id = $2)
       )
       UPDATE webhook_endpoints
          SET url = coalesce($3, url),
              events = coalesce($4, events),
              description = CASE WHEN $5 THEN $6 ELSE description END,
              enabled = coalesce($7, enabled),
              disabled_reason = CASE WHEN $7 IS NULL THEN disabled_reason WHEN $7 THEN NULL ELSE 'turned off by its owner' END
        WHERE id = $1 AND user_id = $2
        RETURNING ${COLUMNS}`,
      [id, userId, change.url ?? null, change.events ?? null, change.description !== undefined, change.description ?? null, change.enabled ?? null],
    );
    return returnedRows<WebhookEndpointRow>(rows)[0] ?? null;
  }

  async disable(id: string, reason: string): Promise<void> {
    await this.ds.query(`UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2 WHERE id = $1`, [id, reason]);
  }
}
