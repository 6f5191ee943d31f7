import { randomBytes } from 'node:crypto';
import { computeWebhookSignature } from '../receiver/verify-webhook';

/** A new secret in the Standard Webhooks format: `whsec_` + base64 of 24 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * The webhook-signature header: one `v1,<signature>` per secret, so a receiver
 * holding either the old or the new secret accepts messages during a rotation.
 * The HMAC comes from the receiver helper so signing and verifying cannot drift apart.
 */
export function signWebhook(secrets: string[], msgId: string, timestampSeconds: number, body: string): string {
  if (secrets.length === 0) throw new Error('signWebhook needs at least one secret');
  return secrets.map((secret) => `v1,${computeWebhookSignature(secret, msgId, timestampSeconds, body)}`).join(' ');
}
