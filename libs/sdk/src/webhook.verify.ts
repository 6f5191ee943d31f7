import { constantTimeEqual, fromBase64, hmacSha256, toBase64, utf8 } from './hmac.util';
import { PixmillError } from './pixmill.error';

/** Headers as Node (`req.headers`), fetch (`Headers`) or a plain object give them. */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

export interface WebhookEvent<T = unknown> {
  type: string;
  timestamp: string;
  data: T;
}

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The current time in milliseconds (for tests and replays). */
  now?: number;
}

function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(found) ? found[0] : found;
}

/**
 * Verifies a Standard Webhooks delivery (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`) against a `whsec_…` secret and returns its parsed event. Pass the
 * body exactly as received (the raw bytes or text, not re-serialised JSON). During a
 * secret rotation a delivery carries several signatures; any one that matches passes.
 */
export async function verifyWebhook<T = unknown>(
  secret: string,
  headers: HeadersLike,
  rawBody: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent<T>> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw new PixmillError('webhook_signature_invalid', 'missing webhook-id, webhook-timestamp or webhook-signature', 400);
  }
  const seconds = Number(timestamp);
  const now = (options.now ?? Date.now()) / 1000;
  if (!/^\d+$/.test(timestamp) || Math.abs(now - seconds) > (options.toleranceSeconds ?? 300)) {
    throw new PixmillError('webhook_timestamp_invalid', 'webhook-timestamp is missing or too far from now', 400);
  }
  const body = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
  const key = fromBase64(secret.replace(/^whsec_/, ''));
  const expected = toBase64(await hmacSha256(key, utf8(`${id}.${timestamp}.${body}`)));
  const matched = signatures
    .split(' ')
    .map((s) => s.split(','))
    .some(([version, signature]) => version === 'v1' && signature !== undefined && constantTimeEqual(signature, expected));
  if (!matched) throw new PixmillError('webhook_signature_invalid', 'no webhook-signature matches the secret', 400);
  return JSON.parse(body) as WebhookEvent<T>;
}
