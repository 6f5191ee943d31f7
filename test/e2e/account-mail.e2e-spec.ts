import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { expectProblem, HttpClient, HttpResponse, jpeg, postImage, RunningApi, startApi, UserFactory } from '@pixmill/testing';

interface TestSmtp {
  server: SMTPServer;
  port: number;
  mails: string[];
  /** Recipients the server was asked to take (RCPT TO), in order, held or not. */
  recipients: string[];
  /** Holds every RCPT TO for this address until the returned release(): its mail cannot complete meanwhile. */
  hold(address: string): () => void;
}

/** A real SMTP server in the test process: every message it receives, raw. */
function startSmtp(): Promise<TestSmtp> {
  const mails: string[] = [];
  const recipients: string[] = [];
  const held = new Map<string, Array<() => void>>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      recipients.push(to);
      const waiting = held.get(to);
      if (waiting) waiting.push(() => callback());
      else callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  const hold = (address: string) => {
    const to = address.toLowerCase();
    held.set(to, []);
    return () => {
      const waiting = held.get(to) ?? [];
      held.delete(to);
      waiting.forEach((go) => go());
    };
  };
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.server.address() as AddressInfo).port, mails, recipients, hold })),
  );
}

/** Polls (bounded) until the condition holds. */
async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What a caller can compare between two answers: status, body and the headers that are not per request. */
function observable(res: HttpResponse): unknown {
  const perRequest = new Set(['x-request-id', 'date', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit', 'ratelimit-policy']);
  const headers = [...res.headers.entries()].filter(([name]) => !perRequest.has(name) && !name.startsWith('ratelimit'));
  return { status: res.status, text: res.text, headers: Object.fromEntries(headers) };
}

async function mailTo(mails: string[], to: string, subject: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const found = mails.find((m) => m.includes(to) && subject.test(m));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no mail to ${to}`);
}

/** The link of a mail's text part (quoted-printable soft breaks undone). */
function linkOf(mail: string, page: string): URL {
  const unfolded = mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = unfolded.match(new RegExp(`https?://[^\\s"<]*/account/${page}\\?token=[A-Za-z0-9_-]+`));
  if (!m) throw new Error('no link in mail');
  return new URL(m[0]);
}

describe('account mail: verification and password reset (e2e)', () => {
  let api: RunningApi;
  let http: HttpClient;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    api = await startApi({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, REQUIRE_VERIFIED_EMAIL: 'true' });
    http = new HttpClient(api.baseUrl);
  });
  afterAll(async () => {
    await api.close();
    await new Promise<void>((r) => smtp.server.close(() => r()));
  });

  it('signup mails a link; following it verifies the address once', async () => {
    const u = await new UserFactory(http).create();
    expect((await u.http.get('/v1/me')).body.emailVerified).toBe(false);
    expectProblem(await u.http.get('/v1/webhook-secret'), 403, 'email_not_verified');
    const link = linkOf(await mailTo(smtp.mails, u.email, /Verify your email/), 'verify-email');
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/v1/auth/verify');
    const token = link.searchParams.get('token')!;
    expect((await http.post('/v1/auth/verify', { token })).status).toBe(204);
    expect((await u.http.get('/v1/me')).body.emailVerified).toBe(true);
    expect((await u.http.get('/v1/webhook-secret')).status).toBe(200);
    expectProblem(await http.post('/v1/auth/verify', { token }), 400, 'token_invalid');
  });

  it('a reset link sets a new password once and logs every session out; unknown emails get the same 202', async () => {
    const u = await new UserFactory(http).create();
    const known = await http.post('/v1/auth/password-reset', { email: u.email });
    const unknown = await http.post('/v1/auth/password-reset', { email: `nobody-${Date.now()}@example.com` });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.text).toBe(known.text);
    const link = linkOf(await mailTo(smtp.mails, u.email, /Reset your Pixmill password/), 'reset-password');
    const token = link.searchParams.get('token')!;
    expect((await http.post('/v1/auth/password-reset/confirm', { token, password: 'a brand new password' })).status).toBe(204);
    expectProblem(await http.post('/v1/auth/refresh', { refreshToken: u.refreshToken }), 401, 'unauthorized');
    expectProblem(await http.post('/v1/auth/login', { email: u.email, password: u.password }), 401, 'invalid_credentials');
    expect((await http.post('/v1/auth/login', { email: u.email, password: 'a brand new password' })).status).toBe(200);
    expectProblem(await http.post('/v1/auth/password-reset/confirm', { token, password: 'yet another one' }), 400, 'token_invalid');
  });

  it('POST /v1/me/password needs the current password', async () => {
    const u = await new UserFactory(http).create();
    expectProblem(await u.http.post('/v1/me/password', { currentPassword: 'wrong one', newPassword: 'new password here' }), 401, 'invalid_credentials');
    expect((await u.http.post('/v1/me/password', { currentPassword: u.password, newPassword: 'new password here' })).status).toBe(204);
    expect((await http.post('/v1/auth/login', { email: u.email, password: 'new password here' })).status).toBe(200);
  });

  it('password reset answers before any mail leaves, the same for a known and an unknown address', async () => {
    const u = await new UserFactory(http).create();
    const unknownEmail = `nobody-${Date.now()}@example.com`;
    // The SMTP server takes no reset mail for this address until released: an answer that
    // waited for the mail could not come back. (No timing is measured: the order is the test.)
    const release = smtp.hold(u.email);
    const before = smtp.recipients.length;
    try {
      const known = await http.post('/v1/auth/password-reset', { email: u.email });
      const unknown = await http.post('/v1/auth/password-reset', { email: unknownEmail });
      expect(known.status).toBe(202);
      expect(observable(unknown)).toEqual(observable(known));
      expect(smtp.mails.some((m) => m.includes(u.email) && /Reset your Pixmill password/.test(m))).toBe(false);
      // The known address's mail is under way (sent after the answer), and held at RCPT TO.
      await until('the reset mail to reach RCPT TO', () => smtp.recipients.slice(before).includes(u.email.toLowerCase()));
    } finally {
      release();
    }
    await mailTo(smtp.mails, u.email, /Reset your Pixmill password/);
    expect(smtp.recipients.slice(before)).not.toContain(unknownEmail.toLowerCase());
  });

  describe('REQUIRE_VERIFIED_EMAIL=true: uploads, transformations and webhooks need a verified address', () => {
    let lax: RunningApi;
    const SPEC = { operations: [{ op: 'resize', width: 32 }], output: { format: 'webp' } };

    beforeAll(async () => {
      // The same database with the rule off: an account made (and an image uploaded) before an
      // operator turned REQUIRE_VERIFIED_EMAIL on.
      lax = await startApi({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
    });
    afterAll(() => lax?.close());

    it('an unverified account gets 403 email_not_verified on each; reads still work; nothing is stored or counted; verified, the same calls pass', async () => {
      const u = await new UserFactory(http).create();
      const before = await postImage(new HttpClient(lax.baseUrl, u.accessToken), await jpeg(64, 48, { seed: 21 }), 'before.jpg');
      expect(before.status).toBe(201);
      const imageId = before.body.id;

      expectProblem(await postImage(u.http, await jpeg(40, 30, { seed: 22 }), 'refused.jpg'), 403, 'email_not_verified');
      expectProblem(await u.http.post('/v1/uploads', { filename: 'a.jpg', contentType: 'image/jpeg', bytes: 1000 }), 403, 'email_not_verified');
      expectProblem(await u.http.post(`/v1/images/${imageId}/transformations`, SPEC), 403, 'email_not_verified');
      expectProblem(await u.http.get(`/v1/images/${imageId}/transform?resize=32x&format=webp&wait=0`), 403, 'email_not_verified');
      expectProblem(await u.http.post('/v1/webhook-endpoints', { url: 'https://example.com/hook', events: ['job.succeeded'] }), 403, 'email_not_verified');
      expectProblem(await u.http.get('/v1/webhook-deliveries'), 403, 'email_not_verified');

      // Reads are not gated, and the refused calls left nothing: one image, no render counted.
      expect((await u.http.get('/v1/images')).body.items.map((i: { id: string }) => i.id)).toEqual([imageId]);
      const me = (await u.http.get('/v1/me')).body;
      expect(me.usage.transformsToday).toBe(0);
      expect(me.usage.storageBytes).toBe(before.body.bytes);
      expect((await u.http.get(`/v1/jobs?imageId=${imageId}`)).status).toBe(200);

      const link = linkOf(await mailTo(smtp.mails, u.email, /Verify your email/), 'verify-email');
      expect((await http.post('/v1/auth/verify', { token: link.searchParams.get('token') })).status).toBe(204);
      expect((await postImage(u.http, await jpeg(40, 30, { seed: 22 }), 'accepted.jpg')).status).toBe(201);
      expect((await u.http.post(`/v1/images/${imageId}/transformations`, SPEC)).status).toBe(202);
    });
  });
});
