import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { expectProblem, HttpClient, pollUntil, RunningApi, startApi, TEST_DATABASE_URL, UserFactory } from '@pixmill/testing';

/** The .eml files of the mail directory that are addressed to `to`, newest last. */
function mailsTo(dir: string, to: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
  } catch {
    return [];
  }
  return files.map((f) => readFileSync(path.join(dir, f), 'utf8')).filter((m) => m.includes(to));
}

/** The link of a mail's text part (quoted-printable soft breaks undone). */
function tokenOf(mail: string, page: string): string {
  const unfolded = mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = unfolded.match(new RegExp(`https?://[^\\s"<]*/account/${page}\\?token=([A-Za-z0-9_-]+)`));
  if (!m) throw new Error(`no ${page} link in mail`);
  return m[1];
}

/**
 * Account mail without SMTP_URL (the embedded default): each message is an .eml file under
 * the data directory's mail/ with a working link. Token lifetimes and the resend limit.
 */
describe('account mail as .eml files; token expiry; resend limit (e2e)', () => {
  let api: RunningApi;
  let http: HttpClient;
  let mailDir: string;
  let db: Client;

  beforeAll(async () => {
    api = await startApi({ VERIFICATION_RESEND_PER_HOUR: '2' });
    http = new HttpClient(api.baseUrl);
    mailDir = api.config.accounts.mailDir;
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await api.close();
    await db.end();
  });

  const waitForMails = (to: string, n: number) => pollUntil(async () => mailsTo(mailDir, to), (m) => m.length >= n);

  it('with no SMTP_URL, signup writes the verification mail as an .eml file under <data dir>/mail; its link verifies', async () => {
    expect(mailDir).toBe(path.join(api.config.storage.localDir, 'mail'));
    const u = await new UserFactory(http).create();
    const [mail] = await waitForMails(u.email, 1);
    expect(mail).toMatch(/^Subject: Verify your email/m);
    expect(mail).toMatch(new RegExp(`^To: ${u.email.replace(/[.+]/g, '\\$&')}`, 'm'));
    expect(mail).toMatch(/Content-Type: text\/plain/);
    expect(mail).toMatch(/Content-Type: text\/html/);
    const token = tokenOf(mail, 'verify-email');
    expect((await http.post('/v1/auth/verify', { token })).status).toBe(204);
    expect((await u.http.get('/v1/me')).body.emailVerified).toBe(true);
  });

  it('a verification token lasts 24 h: once expired it is token_invalid', async () => {
    const u = await new UserFactory(http).create();
    const token = tokenOf((await waitForMails(u.email, 1))[0], 'verify-email');
    const { rows } = await db.query(
      `SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM account_tokens WHERE user_id = $1 AND purpose = 'verify_email'`,
      [u.id],
    );
    expect(rows).toEqual([{ ttl: 24 * 3600 }]);
    await db.query(`UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [u.id]);
    expectProblem(await http.post('/v1/auth/verify', { token }), 400, 'token_invalid');
    expect((await u.http.get('/v1/me')).body.emailVerified).toBe(false);
  });

  it('a reset token lasts 1 h: once expired it is token_invalid and the password stays', async () => {
    const u = await new UserFactory(http).create();
    expect((await http.post('/v1/auth/password-reset', { email: u.email })).status).toBe(202);
    const reset = (await pollUntil(async () => mailsTo(mailDir, u.email), (m) => m.some((x) => /Reset your Pixmill password/.test(x)))).find((x) =>
      /Reset your Pixmill password/.test(x),
    )!;
    const token = tokenOf(reset, 'reset-password');
    const { rows } = await db.query(
      `SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM account_tokens WHERE user_id = $1 AND purpose = 'password_reset'`,
      [u.id],
    );
    expect(rows).toEqual([{ ttl: 3600 }]);
    await db.query(`UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND purpose = 'password_reset'`, [u.id]);
    expectProblem(await http.post('/v1/auth/password-reset/confirm', { token, password: 'never set this one' }), 400, 'token_invalid');
    expect((await http.post('/v1/auth/login', { email: u.email, password: u.password })).status).toBe(200);
  });

  it('resend is limited per account (VERIFICATION_RESEND_PER_HOUR=2 here): the third in the hour is 429 with Retry-After', async () => {
    const u = await new UserFactory(http).create();
    await waitForMails(u.email, 1);
    expect((await u.http.post('/v1/auth/verify/resend')).status).toBe(202);
    expect((await u.http.post('/v1/auth/verify/resend')).status).toBe(202);
    const third = await u.http.post('/v1/auth/verify/resend');
    expectProblem(third, 429, 'rate_limited');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await waitForMails(u.email, 3)).length).toBe(3); // the signup mail and two resends, no fourth
    // Each account has its own allowance.
    const other = await new UserFactory(http).create();
    expect((await other.http.post('/v1/auth/verify/resend')).status).toBe(202);
  });
});
