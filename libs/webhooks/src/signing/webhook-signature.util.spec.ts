import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, signWebhook } from './webhook-signature.util';

describe('webhook signing', () => {
  const body = JSON.stringify({ type: 'job.succeeded', timestamp: '2026-11-29T17:00:00.000Z', data: { id: 'job_1' } });
  const now = () => Math.floor(Date.now() / 1000);

  it('generates whsec_ secrets of 24 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(24);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it('signs exactly as Standard Webhooks does', () => {
    const secret = generateWebhookSecret();
    const ts = now();
    const signature = signWebhook([secret], 'msg_1', ts, body);
    expect(signature).toBe(new Webhook(secret).sign('msg_1', new Date(ts * 1000), body));
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('matches the Standard Webhooks reference vector', () => {
    // From the Standard Webhooks specification's test suite.
    const signature = signWebhook(
      ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('sends one signature per secret during a rotation, each verifying alone', () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const ts = now();
    const header = signWebhook([oldSecret, newSecret], 'msg_2', ts, body);
    expect(header.split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': header };
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
    const stranger = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': header };
    expect(() => new Webhook(generateWebhookSecret()).verify(body, stranger)).toThrow();
  });
});
