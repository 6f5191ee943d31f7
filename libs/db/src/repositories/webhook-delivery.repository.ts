import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

export interface NewWebhookMessage {
  userId: string;
  type: string;
  /** The exact JSON text sent, frozen so every retry carries the same bytes. */
  body: string;
  jobId?: string | null;
  imageId?: string | null;
  /** The API request that caused the message; sent as `x-request-id` with every attempt. */
  requestId?: string | null;
  /** The trace context of the work that wrote it (tracing on), for deliveries enqueued again from the row. */
  traceparent?: string | null;
}

export type DeliveryTarget = { target: 'url'; url: string } | { target: 'endpoint'; endpointId: string; url: string };

export interface WebhookDeliveryRow {
  id: string;
  messageId: string;
  userId: string;
  target: 'url' | 'endpoint';
  endpointId: string | null;
  url: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  type: string;
  body: string;
  jobId: string | null;
  imageId: string | null;
  requestId: string | null;
}

export interface WebhookAttemptRow {
  deliveryId: string;
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string | null;
}

export interface DeliveryPageQuery {
  limit: number;
  jobId?: string;
  endpointId?: string;
  after?: { createdAt: Date; id: string };
}

const DELIVERY_COLUMNS = `d.id, d.message_id AS "messageId", d.user_id AS "userId", d.target, d.endpoint_id AS "endpointId", d.url, d.status,
  d.attempts, d.next_attempt_at AS "nextAttemptAt", d.last_error AS "lastError", d.created_at AS "createdAt", d.finished_at AS "finishedAt",
  m.type, m.body, m.job_id AS "jobId", m.image_id AS "imageId", m.request_id AS "requestId"`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The webhook outbox: messages, one delivery per (message, target), and every
 * attempt. Messages and deliveries are inserted in the caller's transaction, the
 * one that records the state change they report.
 */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(private readonly ds: DataSource) {}

  static newMessageId(): string {
    return `msg_${randomUUID().replace(/-/g, '')}`;
  }

  /** Writes a message and its deliveries; returns the delivery ids to enqueue after commit. */
  async insertMessage(em: EntityManager, id: string, msg: NewWebhookMessage, targets: DeliveryTarget[]): Promise<string[]> {
    if (!targets.length) return [];
    await em.query(
      `INSERT INTO webhook_messages (id, user_id, type, body, job_id, image_id, request_id, traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, msg.userId, msg.type, msg.body, msg.jobId ?? null, msg.imageId ?? null, msg.requestId ?? null, msg.traceparent ?? null],
    );
    const rows: Array<{ id: string }> = await em.query(
      `INSERT INTO webhook_deliveries (message_id, user_id, target, endpoint_id, url)
       SELECT $1, $2, t.target, t.endpoint_id, t.url
         FROM unnest($3::text[], $4::uuid[], $5::text[]) WITH ORDINALITY AS t(target, endpoint_id, url, n)
        ORDER BY t.n
       RETURNING id`,
      [id, msg.userId, targets.map((t) => t.target), targets.map((t) => (t.target === 'endpoint' ? t.endpointId : null)), targets.map((t) => t.url)],
    );
    return rows.map((r) => r.id);
  }

  /** A fresh delivery of an existing message to the same target (redeliver). */
  async duplicate(userId: string, id: string): Promise<string | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.ds.query(
      `INSERT INTO webhook_deliveries (message_id, user_id, target, endpoint_id, url)
       SELECT message_id, user_id, target, endpoint_id, url FROM webhook_deliveries WHERE id = $1 AND user_id = $2
       RETURNING id`,
      [id, userId],
    );
    return rows[0]?.id ?? null;
  }

  async findById(id: string): Promise<WebhookDeliveryRow | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.ds.query(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id WHERE d.id = $1`, [id]);
    return rows[0] ?? null;
  }

  async findOwned(userId: string, id: string): Promise<WebhookDeliveryRow | null> {
    const row = await this.findById(id);
    return row && row.userId === userId ? row : null;
  }

  async list(userId: string, q: DeliveryPageQuery): Promise<{ items: WebhookDeliveryRow[]; hasMore: boolean }> {
    const params: unknown[] = [userId, q.limit + 1];
    const where = ['d.user_id = $1'];
    if (q.jobId) where.push(`m.job_id = $${params.push(q.jobId)}`);
    if (q.endpointId) where.push(`d.endpoint_id = $${params.push(q.endpointId)}`);
    if (q.after) where.push(`(d.created_at, d.id) < ($${params.push(q.after.createdAt)}, $${params.push(q.after.id)})`);
    const rows: WebhookDeliveryRow[] = await this.ds.query(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id
        WHERE ${where.join(' AND ')} ORDER BY d.created_at DESC, d.id DESC LIMIT $2`,
      params,
    );
    return { items: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
  }

  async attemptsOf(deliveryIds: string[]): Promise<WebhookAttemptRow[]> {
    if (!deliveryIds.length) return [];
    return this.ds.query(
      `SELECT delivery_id AS "deliveryId", attempted_at AS "attemptedAt", status_code AS "statusCode", duration_ms AS "durationMs",
              error, response_snippet AS "responseSnippet"
         FROM webhook_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY id`,
      [deliveryIds],
    );
  }

  /**
   * Records one attempt and moves the delivery on, in one transaction: `outcome`
   * succeeded/failed/canceled ends it, `retry` keeps it pending until `nextAttemptAt`.
   */
  async recordAttempt(
    id: string,
    attempt: Omit<WebhookAttemptRow, 'deliveryId'>,
    outcome: { status: Exclude<WebhookDeliveryStatus, 'pending'> } | { status: 'pending'; nextAttemptAt: Date },
  ): Promise<void> {
    await this.ds.transaction(async (em) => {
      await em.query(
        `INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms, error, response_snippet) VALUES ($1, $2, $3, $4, $5, $6)`,
        [id, attempt.attemptedAt, attempt.statusCode, attempt.durationMs, attempt.error, attempt.responseSnippet],
      );
      await em.query(
        `UPDATE webhook_deliveries
            SET attempts = attempts + 1, status = $2, last_error = $3,
                next_attempt_at = coalesce($4, next_attempt_at),
                finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
          WHERE id = $1 AND status = 'pending'`,
        [id, outcome.status, attempt.error, outcome.status === 'pending' ? outcome.nextAttemptAt : null],
      );
    });
  }

  /** Ends a pending delivery without an attempt (its endpoint was deleted or disabled). */
  async cancel(id: string, reason: string): Promise<void> {
    await this.ds.query(`UPDATE webhook_deliveries SET status = 'canceled', last_error = $2, finished_at = now() WHERE id = $1 AND status = 'pending'`, [
      id,
      reason,
    ]);
  }

  /**
   * Pending deliveries whose next attempt is overdue by `graceSeconds` (their queue job was
   * probably lost), with their message's trace context for the job made again.
   */
  async overdue(graceSeconds: number, limit = 500): Promise<Array<{ id: string; traceparent: string | null }>> {
    return this.ds.query(
      `SELECT d.id, m.traceparent FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id
        WHERE d.status = 'pending' AND d.next_attempt_at < now() - make_interval(secs => $1)
        ORDER BY d.next_attempt_at LIMIT $2`,
      [graceSeconds, limit],
    );
  }
}
