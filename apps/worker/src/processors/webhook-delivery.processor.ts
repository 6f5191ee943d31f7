import { Injectable } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { Counter, Histogram } from 'prom-client';
import { AppConfig } from '@pixmill/config';
import { UserRepository, WebhookDeliveryRepository, WebhookDeliveryRow, WebhookEndpointRepository } from '@pixmill/db';
import { JobName, JobResults, WebhookDeliveryJobData, webhookRetryDelaySeconds } from '@pixmill/queue';
import { SpanStatusCode, withSpan } from '@pixmill/tracing';
import { deliverWebhook, generateWebhookSecret } from '@pixmill/webhooks';
import { JobProcessor, JobReport, Processes } from '../job-processor.decorator';
import { overCapDelayMs } from '../over-cap-delay.util';
import { WebhookInFlightLimiter } from '../webhook-in-flight.limiter';
import { WorkerMetrics } from '../worker-metrics.service';

type Result = JobResults[JobName.WebhookDelivery];

/** Thrown for an attempt that did not succeed; BullMQ retries it on the webhook schedule. */
export class WebhookAttemptFailedError extends Error {}

/**
 * Sends one message to one target, once per attempt, and records every attempt.
 * `webhook-id` is the message id on every attempt (receivers dedupe on it);
 * `webhook-timestamp` and the signatures are made fresh for each attempt.
 * A delivery whose user already has WEBHOOK_MAX_IN_FLIGHT_PER_USER in flight waits in
 * the queue instead (docs/decisions/014).
 */
@Injectable()
@Processes(JobName.WebhookDelivery)
export class WebhookDeliveryProcessor implements JobProcessor<JobName.WebhookDelivery> {
  private readonly attempts: Counter;
  private readonly duration: Histogram;
  private readonly overCap: Counter;

  constructor(
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly users: UserRepository,
    private readonly config: AppConfig,
    private readonly inFlight: WebhookInFlightLimiter,
    metrics: WorkerMetrics,
  ) {
    this.attempts = new Counter({
      name: 'pixmill_webhook_attempts_total',
      help: 'Webhook delivery attempts, by outcome (succeeded, failed, gone).',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    this.duration = new Histogram({
      name: 'pixmill_webhook_attempt_duration_seconds',
      help: 'Time from connect to the receiver answering (or the attempt failing).',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
    this.overCap = new Counter({
      name: 'pixmill_webhook_over_cap_total',
      help: 'Deliveries put back in the queue for a moment because their user had WEBHOOK_MAX_IN_FLIGHT_PER_USER in flight.',
      registers: [metrics.registry],
    });
  }

  async process(job: Job<WebhookDeliveryJobData>, report: JobReport, token?: string): Promise<Result> {
    report.deliveryId = job.data.deliveryId;
    const delivery = await this.deliveries.findById(job.data.deliveryId);
    if (!delivery || delivery.status !== 'pending') return { skipped: 'delivery gone or finished' };
    // The message's own request id: the job data has none when the reconciler or a redelivery enqueued it.
    const requestId = delivery.requestId ?? job.data.requestId;
    Object.assign(report, {
      messageId: delivery.messageId,
      endpointId: delivery.endpointId,
      userId: delivery.userId,
      requestId,
      attempts: delivery.attempts + 1,
    });

    const attemptId = randomUUID();
    if (!(await this.inFlight.tryTake(delivery.userId, attemptId))) {
      // Not an attempt: nothing is recorded, BullMQ counts none, and the slot goes to the next job.
      // Each start that made no attempt was a time over the cap (or a hand-back at shutdown).
      const timesOverCap = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
      this.overCap.inc();
      await job.moveToDelayed(Date.now() + overCapDelayMs(timesOverCap, this.config.webhooks.timeoutMs), token);
      throw new DelayedError();
    }
    try {
      return await this.attempt(delivery, report, requestId);
    } finally {
      await this.inFlight.release(delivery.userId, attemptId);
    }
  }

  private async attempt(delivery: WebhookDeliveryRow, report: JobReport, requestId: string | undefined): Promise<Result> {
    const secrets = await this.secretsFor(delivery);
    if (!secrets) {
      await this.deliveries.cancel(delivery.id, 'the endpoint was deleted or disabled');
      return { skipped: 'endpoint deleted or disabled' };
    }

    const attemptedAt = new Date();
    const outcome = await withSpan(
      'webhook deliver',
      {
        // The HTTP request itself is the http instrumentation's client span, a child of this one.
        attributes: {
          'pixmill.webhook.delivery_id': delivery.id,
          'pixmill.webhook.message_id': delivery.messageId,
          'pixmill.webhook.target': delivery.target,
          'pixmill.webhook.attempt': delivery.attempts + 1,
          'server.address': new URL(delivery.url).hostname,
        },
      },
      async (span) => {
        const o = await deliverWebhook({
          url: delivery.url,
          msgId: delivery.messageId,
          timestampSeconds: Math.floor(attemptedAt.getTime() / 1000),
          body: delivery.body,
          secrets,
          timeoutMs: this.config.webhooks.timeoutMs,
          allowedHosts: this.config.webhooks.allowedHosts,
          requestId,
        });
        if (o.statusCode !== null) span.setAttribute('http.response.status_code', o.statusCode);
        if (!o.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: o.error ?? `HTTP ${o.statusCode}` });
        return o;
      },
    );
    this.duration.observe(outcome.durationMs / 1000);
    Object.assign(report, { statusCode: outcome.statusCode, durationMs: Math.round(outcome.durationMs) });
    const attempt = {
      attemptedAt,
      statusCode: outcome.statusCode,
      durationMs: Math.round(outcome.durationMs),
      error: outcome.ok ? null : (outcome.error ?? `HTTP ${outcome.statusCode}`),
      responseSnippet: outcome.responseSnippet,
    };

    if (outcome.ok) {
      this.attempts.inc({ outcome: 'succeeded' });
      await this.deliveries.recordAttempt(delivery.id, attempt, { status: 'succeeded' });
      return { statusCode: outcome.statusCode };
    }
    if (outcome.gone) {
      // 410 Gone: the receiver says this endpoint is no more; stop sending to it.
      this.attempts.inc({ outcome: 'gone' });
      await this.deliveries.recordAttempt(delivery.id, attempt, { status: 'failed' });
      if (delivery.endpointId) await this.endpoints.disable(delivery.endpointId, 'the receiver answered 410 Gone');
      report.refusedByReceiver = true;
      throw new UnrecoverableError(`${delivery.url} answered 410 Gone`);
    }
    this.attempts.inc({ outcome: 'failed' });
    const last = await this.recordFailure(delivery, attempt);
    // Recorded: what is thrown now is the receiver's answer, for BullMQ to schedule, not a fault of the job.
    report.refusedByReceiver = true;
    if (last) throw new UnrecoverableError(`gave up on ${delivery.url}: ${attempt.error}`);
    throw new WebhookAttemptFailedError(attempt.error ?? 'delivery failed');
  }

  /**
   * The failed attempt, and when the next one is due; true when it was the last one.
   * Counted on the row, not the BullMQ job, so a delivery re-enqueued after Redis lost
   * it does not start its schedule over.
   */
  private async recordFailure(
    delivery: WebhookDeliveryRow,
    attempt: Parameters<WebhookDeliveryRepository['recordAttempt']>[1],
  ): Promise<boolean> {
    const schedule = this.config.webhooks.retryScheduleSeconds;
    const made = delivery.attempts + 1;
    if (made >= schedule.length) {
      await this.deliveries.recordAttempt(delivery.id, attempt, { status: 'failed' });
      return true;
    }
    const delaySeconds = webhookRetryDelaySeconds(schedule, made);
    await this.deliveries.recordAttempt(delivery.id, attempt, { status: 'pending', nextAttemptAt: new Date(Date.now() + delaySeconds * 1000) });
    return false;
  }

  /**
   * Endpoint targets: the endpoint's own secret (null when it is gone or disabled).
   * webhookUrl targets: the account secret, plus the previous one during a rotation.
   */
  private async secretsFor(delivery: WebhookDeliveryRow): Promise<string[] | null> {
    if (delivery.target === 'endpoint') {
      const endpoint = delivery.endpointId ? await this.endpoints.findById(delivery.endpointId) : null;
      return endpoint?.enabled ? [endpoint.secret] : null;
    }
    const s = await this.users.webhookSecrets(delivery.userId, generateWebhookSecret());
    if (!s) return null;
    return s.previousSecret ? [s.secret, s.previousSecret] : [s.secret];
  }
}
