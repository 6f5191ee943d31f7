import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, signWebhook } from '../signing/webhook-signature.util';
import { verifyWebhook, WebhookVerificationError } from './verify-webhook';

describe('verifyWebhook', () => {
  const secret = generateWebhookSecret();
  const event = { type: 'image.ready', timestamp: '2026-11-29T17:00:00.000Z', data: { id: 'img_1', width: 640 } };
  const body = JSON.stringify(event);
  const ts = Math.floor(Date.now() / 1000);
  const headers = (signature = signWebhook([secret], 'msg_1', ts, body), timestamp = ts) => ({
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  });
  const rejects = (fn: () => unknown, message: RegExp) => {
    expect(fn).toThrow(WebhookVerificationError);
    expect(fn).toThrow(message);
  };

  it('accepts a message signed by signWebhook, as a string or raw bytes', () => {
    expect(verifyWebhook(secret, headers(), body)).toEqual(event);
    expect(verifyWebhook(secret, headers(), Buffer.from(body))).toEqual(event);
  });

  it('accepts a message signed by the standardwebhooks package', () => {
    const signature = new Webhook(secret).sign('msg_1', new Date(ts * 1000), body);
    expect(verifyWebhook(secret, headers(signature), body)).toEqual(event);
  });

  it('accepts when any one of several signatures matches (secret rotation)', () => {
    const signature = signWebhook([generateWebhookSecret(), secret], 'msg_1', ts, body);
    expect(verifyWebhook(secret, headers(signature), body)).toEqual(event);
  });

  it('reads headers whatever their case, and repeated signature headers', () => {
    const [signature] = signWebhook([secret], 'msg_1', ts, body).split(' ');
    const mixed = {
      'Webhook-Id': 'msg_1',
      'WEBHOOK-TIMESTAMP': String(ts),
      'webhook-signature': ['v1,bm90IGl0', signature],
    };
    expect(verifyWebhook(secret, mixed, body)).toEqual(event);
  });

  it('rejects a wrong secret', () => {
    rejects(() => verifyWebhook(generateWebhookSecret(), headers(), body), /No matching signature/);
  });

  it('rejects a tampered body', () => {
    rejects(() => verifyWebhook(secret, headers(), body.replace('640', '641')), /No matching signature/);
  });

  it('rejects a signature of another version or a truncated one', () => {
    const [, sig] = signWebhook([secret], 'msg_1', ts, body).split(',');
    rejects(() => verifyWebhook(secret, headers(`v2,${sig}`), body), /No matching signature/);
    rejects(() => verifyWebhook(secret, headers(`v1,${sig.slice(0, -2)}`), body), /No matching signature/);
  });

  it('rejects a stale or future timestamp, with a configurable tolerance', () => {
    // The clock is pinned: a suite collected a second before this test runs must not move the edges.
    const now = new Date(ts * 1000);
    const signedAt = (seconds: number) => headers(signWebhook([secret], 'msg_1', seconds, body), seconds);
    rejects(() => verifyWebhook(secret, signedAt(ts - 301), body, { now }), /too old/);
    rejects(() => verifyWebhook(secret, signedAt(ts + 301), body, { now }), /too new/);
    expect(verifyWebhook(secret, signedAt(ts - 300), body, { now })).toEqual(event);
    expect(verifyWebhook(secret, signedAt(ts + 300), body, { now })).toEqual(event);
    expect(verifyWebhook(secret, signedAt(ts - 301), body, { now, toleranceSeconds: 600 })).toEqual(event);
    expect(verifyWebhook(secret, signedAt(ts - 301), body, { now: new Date((ts - 301) * 1000) })).toEqual(event);
  });

  it('rejects a timestamp that is not a number', () => {
    rejects(() => verifyWebhook(secret, { ...headers(), 'webhook-timestamp': 'soon' }, body), /Invalid/);
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('rejects a message without %s', (name) => {
    const partial: Record<string, string | undefined> = { ...headers() };
    delete partial[name];
    rejects(() => verifyWebhook(secret, partial, body), /Missing webhook headers/);
  });
});

describe('verify-webhook.ts', () => {
  it('imports only Node built-ins, so users can copy the file alone', () => {
    const source = require('node:fs').readFileSync(require.resolve('./verify-webhook.ts'), 'utf8') as string;
    const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every((name) => name.startsWith('node:'))).toBe(true);
  });
});
