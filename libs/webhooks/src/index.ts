export * from './ssrf/forbidden-address.util';
export * from './ssrf/webhook-url-rejected.error';
export * from './ssrf/check-webhook-url.util';
export * from './signing/webhook-signature.util';
export * from './delivery/deliver-webhook.util';
export { verifyWebhook, WebhookVerificationError } from './receiver/verify-webhook';
export type { PixmillWebhookEvent, VerifyWebhookOptions } from './receiver/verify-webhook';
