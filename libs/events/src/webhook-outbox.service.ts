import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '@pixmill/config';
import { DeliveryTarget, WebhookDeliveryRepository, WebhookEndpointRepository } from '@pixmill/db';
import { JobQueue } from '@pixmill/queue';
import { currentTraceHeaders } from '@pixmill/tracing';
import { WebhookEventType } from './webhook-event.types';

export interface OutgoingEvent {
  userId: string;
  type: WebhookEventType;
  /** Built only when someone is to receive the message (it signs URLs and may read rows). */
  data: () => Promise<object>;
  /** The webhookUrls given with the job (each request that joined it) or the upload, signed with the account secret. */
  urls?: readonly string[];
  jobId?: string | null;
  imageId?: string | null;
  requestId?: string | null;
}

/** Deliveries written by a transaction, to enqueue once it has committed. */
export interface PendingDeliveries {
  ids: string[];
  requestId?: string | null;
}

/**
 * The webhook outbox. `record` runs inside the transaction that records the state
 * change (so there is no event without its change and no change without its event)
 * and writes the message with one delivery per target: each webhookUrl the requests gave
 * and every enabled endpoint of the user subscribed to the type. `enqueue`, called
 * after commit, hands the deliveries to the webhook queue; if the process dies in
 * between, the reconciler finds them overdue and enqueues them.
 */
@Injectable()
export class WebhookOutbox {
  private readonly logger = new Logger('WebhookOutbox');

  constructor(
    private readonly endpoints: WebhookEndpointRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly queue: JobQueue,
    private readonly config: AppConfig,
  ) {}

  async record(em: EntityManager, event: OutgoingEvent): Promise<PendingDeliveries> {
    const targets: DeliveryTarget[] = [];
    for (const url of event.urls ?? []) targets.push({ target: 'url', url });
    for (const e of await this.endpoints.subscribers(event.userId, event.type, em)) {
      targets.push({ target: 'endpoint', endpointId: e.id, url: e.url });
    }
    if (!targets.length) return { ids: [] };
    const id = WebhookDeliveryRepository.newMessageId();
    const body = JSON.stringify({ type: event.type, timestamp: new Date().toISOString(), data: await event.data() });
    const ids = await this.deliveries.insertMessage(
      em,
      id,
      {
        userId: event.userId,
        type: event.type,
        body,
        jobId: event.jobId,
        imageId: event.imageId,
        requestId: event.requestId,
        traceparent: currentTraceHeaders().traceparent,
      },
      targets,
    );
    return { ids, requestId: event.requestId };
  }

  /** After commit. An enqueue that fails is left to the reconciler, so this never throws. */
  async enqueue(pending: PendingDeliveries): Promise<void> {
    if (!pending.ids.length) return;
    if (this.config.webhooks.crashAfterOutboxCommit) {
      this.logger.warn('fault injection: dying between the outbox commit and the enqueue');
      process.kill(process.pid, 'SIGKILL');
    }
    await Promise.all(
      pending.ids.map((id) =>
        this.queue.enqueueWebhookDelivery(id, pending.requestId ?? undefined).catch((err) => {
          this.logger.warn(`webhook delivery ${id} not enqueued (the reconciler will): ${(err as Error).message}`);
        }),
      ),
    );
  }
}
