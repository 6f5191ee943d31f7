import { verifyWebhook } from './webhook.verify';

/** The test vector of the Standard Webhooks specification (its reference libraries test against it). */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: '1614265330',
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const AT = Number(VECTOR.timestamp) * 1000;
const headers = (signature = VECTOR.signature, timestamp = VECTOR.timestamp) => ({
  'webhook-id': VECTOR.id,
  'webhook-timestamp': timestamp,
  'webhook-signature': signature,
});

describe('verifyWebhook', () => {
  it('accepts the Standard Webhooks test vector, from a plain object, Headers, or bytes', async () => {
    await expect(verifyWebhook(VECTOR.secret, headers(), VECTOR.body, { now: AT })).resolves.toEqual({ test: 2432232314 });
    await expect(verifyWebhook(VECTOR.secret, new Headers(headers()), new TextEncoder().encode(VECTOR.body), { now: AT + 60_000 })).resolves.toEqual({ test: 2432232314 });
  });

  it('accepts any one of several signatures (a secret rotation), and only v1', async () => {
    await expect(verifyWebhook(VECTOR.secret, headers(`v1,bm90IHRoaXMgb25l ${VECTOR.signature}`), VECTOR.body, { now: AT })).resolves.toBeTruthy();
    await expect(verifyWebhook(VECTOR.secret, headers(VECTOR.signature.replace('v1,', 'v2,')), VECTOR.body, { now: AT })).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
  });

  it('refuses a changed body, another secret, a missing header, and a timestamp out of tolerance', async () => {
    await expect(verifyWebhook(VECTOR.secret, headers(), VECTOR.body.replace('2', '3'), { now: AT })).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
    await expect(verifyWebhook('whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', headers(), VECTOR.body, { now: AT })).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
    await expect(verifyWebhook(VECTOR.secret, { 'webhook-id': VECTOR.id }, VECTOR.body, { now: AT })).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
    await expect(verifyWebhook(VECTOR.secret, headers(), VECTOR.body, { now: AT + 301_000 })).rejects.toMatchObject({ code: 'webhook_timestamp_invalid' });
    await expect(verifyWebhook(VECTOR.secret, headers(), VECTOR.body)).rejects.toMatchObject({ code: 'webhook_timestamp_invalid' });
  });
});
