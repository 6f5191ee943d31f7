/**
 * Verifies a Pixmill webhook (Standard Webhooks, https://www.standardwebhooks.com/).
 * This file needs only Node's built-ins: copy it into your receiver as it is.
 *
 * Pass the raw request body (the exact bytes Pixmill sent, not re-serialized JSON).
 *
 * Express (`secret` is the endpoint's whsec_… secret from Pixmill):
 *   app.post('/pixmill', express.raw({ type: 'application/json' }), (req, res) => {
 *     try {
 *       const event = verifyWebhook(secret, req.headers, req.body);
 *       // handle event.type / event.data, then:
 *       res.sendStatus(204);
 *     } catch (err) {
 *       res.sendStatus(err instanceof WebhookVerificationError ? 400 : 500);
 *     }
 *   });
 *
 * Fastify:
 *   app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
 *   app.post('/pixmill', async (req, reply) => {
 *     const event = verifyWebhook(secret, req.headers, req.body as Buffer); // throws → answer 400
 *     return reply.code(204).send();
 *   });
 *
 * Answer 2xx quickly; Pixmill retries anything else, and 410 Gone disables the endpoint.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A Pixmill webhook body: `data` is the job or image as the API returns it. */
export interface PixmillWebhookEvent {
  type: string;
  timestamp: string;
  data: any;
}

export interface VerifyWebhookOptions {
  /** How far the webhook-timestamp may be from now; 300 s by default, as in Standard Webhooks. */
  toleranceSeconds?: number;
  now?: Date;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * The message is not a genuine, fresh Pixmill webhook. Kept in this file,
 * against the one-class-per-file habit, so the file can be copied alone.
 */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** Checks the signature and freshness of a webhook and returns the parsed event; throws WebhookVerificationError otherwise. */
export function verifyWebhook(
  secret: string,
  headers: Headers,
  rawBody: string | Buffer,
  opts: VerifyWebhookOptions = {},
): PixmillWebhookEvent {
  const msgId = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!msgId || !timestamp || !signatures) throw new WebhookVerificationError('Missing webhook headers');

  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('Invalid webhook-timestamp');
  const seconds = Number(timestamp);
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const tolerance = opts.toleranceSeconds ?? 300;
  if (now - seconds > tolerance) throw new WebhookVerificationError('Message timestamp too old');
  if (seconds - now > tolerance) throw new WebhookVerificationError('Message timestamp too new');

  const expected = Buffer.from(computeWebhookSignature(secret, msgId, seconds, rawBody));
  const matches = signatures.split(' ').some((versioned) => {
    const [version, signature] = versioned.split(',', 2);
    if (version !== 'v1' || signature === undefined) return false;
    const candidate = Buffer.from(signature);
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
  if (!matches) throw new WebhookVerificationError('No matching signature found');

  try {
    return JSON.parse(rawBody.toString()) as PixmillWebhookEvent;
  } catch {
    throw new WebhookVerificationError('Body is not JSON');
  }
}

/** Base64 HMAC-SHA256 of "id.timestamp.body", keyed with the base64 part of a `whsec_` secret. */
export function computeWebhookSignature(
  secret: string,
  msgId: string,
  timestampSeconds: number,
  body: string | Buffer,
): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  if (key.length === 0) throw new Error('Webhook secret is empty or not base64');
  return createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.`).update(body).digest('base64');
}

function header(headers: Headers, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  // A repeated signature header carries more signatures; for the others the first value counts.
  if (Array.isArray(value)) return name === 'webhook-signature' ? value.join(' ') : value[0];
  return value;
}
