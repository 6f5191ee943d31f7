import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { expectProblem, HttpClient, RunningApi, startApi, UserFactory } from '@pixmill/testing';

/** A real SMTP server in the test process: every message it receives, raw. */
function startSmtp(): Promise<{ server: SMTPServer; port: number; mails: string[] }> {
  const mails: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.server.address() as AddressInfo).port, mails })));
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
  let smtp: Awaited<ReturnType<typeof startSmtp>>;

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
});
