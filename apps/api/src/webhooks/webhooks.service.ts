import { Injectable } from '@nestjs/common';
import { DomainException, NotFoundException, ValidationFailedException } from '@pixmill/common';
import { UserRepository, WebhookDeliveryRepository, WebhookDeliveryRow, WebhookEndpointRepository, WebhookEndpointRow, WebhookSecrets } from '@pixmill/db';
import { WebhookOutbox } from '@pixmill/events';
import { generateWebhookSecret } from '@pixmill/webhooks';
import { decodeCursor, encodeCursor } from '../common/cursor.util';
import {
  CreateWebhookEndpointDto,
  ListWebhookDeliveriesQueryDto,
  UpdateWebhookEndpointDto,
  WebhookDeliveryDto,
  WebhookDeliveryPageDto,
  WebhookEndpointDto,
  WebhookSecretDto,
} from './dto/webhook.dto';
import { WebhookUrlPolicy } from './webhook-url.policy';

/** After a rotation the previous account secret signs alongside the new one for this long. */
export const SECRET_ROTATION_OVERLAP_SECONDS = 24 * 3600;
/** Endpoints per account: each message fans out to every subscribed one. */
export const MAX_ENDPOINTS = 20;

export class WebhookEndpointDisabledException extends DomainException {
  constructor() {
    super('webhook_endpoint_disabled', 'This delivery’s endpoint is disabled (it answered 410 Gone) or was deleted; nothing can be sent to it.');
  }
}

/** Account secret, registered endpoints, and the delivery log. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly users: UserRepository,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly outbox: WebhookOutbox,
    private readonly urls: WebhookUrlPolicy,
  ) {}

  async secret(userId: string): Promise<WebhookSecretDto> {
    return this.secretDto(await this.users.webhookSecrets(userId, generateWebhookSecret()));
  }

  async rotateSecret(userId: string): Promise<WebhookSecretDto> {
    return this.secretDto(await this.users.rotateWebhookSecret(userId, generateWebhookSecret(), SECRET_ROTATION_OVERLAP_SECONDS));
  }

  private secretDto(s: WebhookSecrets | null): WebhookSecretDto {
    if (!s) throw new NotFoundException('User');
    return { secret: s.secret, previousSecret: s.previousSecret, previousExpiresAt: s.previousExpiresAt ? new Date(s.previousExpiresAt).toISOString() : null };
  }

  async createEndpoint(userId: string, body: CreateWebhookEndpointDto): Promise<WebhookEndpointDto> {
    const url = await this.urls.check(body.url, 'url');
    if ((await this.endpoints.countForUser(userId)) >= MAX_ENDPOINTS) {
      throw new ValidationFailedException([{ field: 'url', message: `an account has at most ${MAX_ENDPOINTS} endpoints; delete one first` }]);
    }
    const row = await this.endpoints.create({ userId, url, events: body.events, secret: generateWebhookSecret(), description: body.description });
    return endpointDto(row);
  }

  async listEndpoints(userId: string): Promise<WebhookEndpointDto[]> {
    return (await this.endpoints.listForUser(userId)).map(endpointDto);
  }

  async getEndpoint(userId: string, id: string): Promise<WebhookEndpointDto> {
    const row = await this.endpoints.findOwned(userId, id);
    if (!row) throw new NotFoundException('Webhook endpoint');
    return endpointDto(row);
  }

  /** A new url is SSRF-checked like a new endpoint's; `enabled: true` turns one that answered 410 back on. */
  async updateEndpoint(userId: string, id: string, body: UpdateWebhookEndpointDto): Promise<WebhookEndpointDto> {
    const url = body.url === undefined ? undefined : await this.urls.check(body.url, 'url');
    const row = await this.endpoints.updateOwned(userId, id, { url, events: body.events, description: body.description, enabled: body.enabled });
    if (!row) throw new NotFoundException('Webhook endpoint');
    return endpointDto(row);
  }

  /** Pending deliveries to it are canceled when their turn comes; its delivery log stays. */
  async deleteEndpoint(userId: string, id: string): Promise<void> {
    if (!(await this.endpoints.deleteOwned(userId, id))) throw new NotFoundException('Webhook endpoint');
  }

  async listDeliveries(userId: string, q: ListWebhookDeliveriesQueryDto): Promise<WebhookDeliveryPageDto> {
    const limit = q.limit ?? 20;
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const { items, hasMore } = await this.deliveries.list(userId, { limit, jobId: q.jobId, endpointId: q.endpointId, after });
    const last = items[items.length - 1];
    return {
      items: await this.deliveryDtos(items),
      nextCursor: hasMore && last ? encodeCursor(new Date(last.createdAt), last.id) : null,
    };
  }

  /** Sends the same message (same `webhook-id`) to the same target again, as a new delivery. */
  async redeliver(userId: string, id: string): Promise<WebhookDeliveryDto> {
    const original = await this.deliveries.findOwned(userId, id);
    if (!original) throw new NotFoundException('Webhook delivery');
    if (original.target === 'endpoint') {
      const endpoint = original.endpointId ? await this.endpoints.findOwned(userId, original.endpointId) : null;
      if (!endpoint?.enabled) throw new WebhookEndpointDisabledException();
    }
    const copyId = await this.deliveries.duplicate(userId, id);
    if (!copyId) throw new NotFoundException('Webhook delivery');
    await this.outbox.enqueue({ ids: [copyId] });
    const [dto] = await this.deliveryDtos([(await this.deliveries.findById(copyId))!]);
    return dto;
  }

  private async deliveryDtos(rows: WebhookDeliveryRow[]): Promise<WebhookDeliveryDto[]> {
    const attempts = await this.deliveries.attemptsOf(rows.map((r) => r.id));
    return rows.map((d) => ({
      id: d.id,
      messageId: d.messageId,
      type: d.type,
      target: d.target,
      endpointId: d.endpointId,
      url: d.url,
      jobId: d.jobId,
      imageId: d.imageId,
      requestId: d.requestId,
      status: d.status,
      nextAttemptAt: d.status === 'pending' ? new Date(d.nextAttemptAt).toISOString() : null,
      attempts: attempts
        .filter((a) => a.deliveryId === d.id)
        .map((a) => ({
          attemptedAt: new Date(a.attemptedAt).toISOString(),
          statusCode: a.statusCode,
          durationMs: a.durationMs,
          error: a.error,
          responseSnippet: a.responseSnippet,
        })),
      payload: JSON.parse(d.body),
      createdAt: new Date(d.createdAt).toISOString(),
      finishedAt: d.finishedAt ? new Date(d.finishedAt).toISOString() : null,
    }));
  }
}

function endpointDto(e: WebhookEndpointRow): WebhookEndpointDto {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    secret: e.secret,
    description: e.description,
    enabled: e.enabled,
    disabledReason: e.disabledReason,
    createdAt: new Date(e.createdAt).toISOString(),
  };
}
