import { JwtService } from '@nestjs/jwt';
import { expectProblem, HttpClient, RunningApi, startApi, UserFactory } from '@pixmill/testing';

describe('accounts and auth (e2e)', () => {
  let api: RunningApi;
  let http: HttpClient;

  beforeAll(async () => {
    api = await startApi();
    http = new HttpClient(api.baseUrl);
  });
  afterAll(() => api.close());

  describe('signup', () => {
    it('creates an account and returns tokens', async () => {
      const email = `Ada-${Date.now()}@Example.com`;
      const res = await http.post('/v1/auth/signup', { email, password: 'long enough' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        user: { id: expect.any(String), email: email.toLowerCase(), plan: 'free' },
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^pmr_/),
        expiresIn: 3600,
        tokenType: 'Bearer',
      });
    });

    it('refuses an email already registered, whatever its case', async () => {
      const u = await new UserFactory(http).create();
      const res = await http.post('/v1/auth/signup', { email: u.email.toUpperCase(), password: 'another password' });
      expectProblem(res, 409, 'email_taken');
    });

    it('lists every bad field', async () => {
      const res = await http.post('/v1/auth/signup', { email: 'nope' });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors.map((e: any) => e.field).sort()).toEqual(['email', 'password']);
    });

    it('names the rule a field breaks: missing, wrong type or bad format, one message per field', async () => {
      const empty = await http.post('/v1/auth/signup', {});
      expect(empty.body.errors).toEqual([
        { field: 'email', message: 'email is required' },
        { field: 'password', message: 'password is required' },
      ]);
      const mistyped = await http.post('/v1/auth/signup', { email: 'nope', password: 12345678 });
      expect(mistyped.body.errors).toEqual([
        { field: 'email', message: 'email must be a valid email address' },
        { field: 'password', message: 'password must be a string' },
      ]);
      const u = await new UserFactory(http).create();
      const badLimit = await u.http.get('/v1/images?limit=abc');
      expectProblem(badLimit, 400, 'validation_failed');
      expect(badLimit.body.errors).toHaveLength(1);
      expect(badLimit.body.errors[0]).toMatchObject({ field: 'limit' });
      expect(badLimit.body.errors[0].message).not.toMatch(/greater than/);
    });

    it('rejects unknown fields and short passwords', async () => {
      const res = await http.post('/v1/auth/signup', { email: 'x@example.com', password: 'short', admin: true });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          { field: 'admin', message: expect.stringContaining('not an allowed field') },
          { field: 'password', message: 'password must be at least 8 characters' },
        ]),
      );
    });

    it('a body that is too large or not JSON gets its own clear code', async () => {
      const big = await http.request('POST', '/v1/auth/signup', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'x@example.com', password: 'y'.repeat(2 * 1024 * 1024) }),
      });
      expectProblem(big, 413, 'body_too_large');
      const text = await http.request('POST', '/v1/auth/signup', {
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ email: 'x@example.com', password: 'long enough password' }),
      });
      expectProblem(text, 415, 'unsupported_media_type');
    });

    it('answers malformed JSON with problem+json', async () => {
      const res = await http.request('POST', '/v1/auth/signup', { body: '{"email":', headers: { 'content-type': 'application/json' } });
      expectProblem(res, 400, 'validation_failed');
    });
  });

  describe('login', () => {
    it('logs in with the right password', async () => {
      const u = await new UserFactory(http).create();
      const res = await http.post('/v1/auth/login', { email: u.email, password: u.password });
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(u.id);
    });

    it('gives the same 401 for a wrong password and an unknown email', async () => {
      const u = await new UserFactory(http).create();
      const wrong = await http.post('/v1/auth/login', { email: u.email, password: 'wrong password' });
      const unknown = await http.post('/v1/auth/login', { email: 'nobody-here@example.com', password: 'wrong password' });
      expectProblem(wrong, 401, 'invalid_credentials');
      expectProblem(unknown, 401, 'invalid_credentials');
      expect(unknown.body.detail).toBe(wrong.body.detail);
    });
  });

  describe('access tokens', () => {
    it('GET /v1/me with a token → account and usage; without → 401', async () => {
      const u = await new UserFactory(http).create();
      const me = await u.http.get('/v1/me');
      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        id: u.id,
        email: u.email,
        plan: 'free',
        emailVerified: false,
        role: 'user',
        createdAt: expect.any(String),
        publicUrls: 'any',
        usage: { storageBytes: 0, storageQuotaBytes: 5368709120, transformsToday: 0, dailyTransformQuota: 20 },
      });
      expectProblem(await http.get('/v1/me'), 401, 'unauthorized');
      // No limit is shown as null, not as a very large number.
      const unlimited = await new UserFactory(http).plan('unlimited').create();
      expect((await unlimited.http.get('/v1/me')).body.usage).toMatchObject({ storageQuotaBytes: null, dailyTransformQuota: null });
    });

    it('refuses a tampered token', async () => {
      const u = await new UserFactory(http).create();
      const [h, p, s] = u.accessToken.split('.');
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: '00000000-0000-0000-0000-000000000000' })).toString('base64url')}.${s}`;
      expectProblem(await http.as(forged).get('/v1/me'), 401, 'unauthorized');
      expectProblem(await http.as(`${u.accessToken.slice(0, -2)}xx`).get('/v1/me'), 401, 'unauthorized');
    });

    it('refuses an expired token and says so', async () => {
      const u = await new UserFactory(http).create();
      const jwt = new JwtService({ secret: api.config.jwt.secret });
      const expired = jwt.sign({ sub: u.id, typ: 'access', exp: Math.floor(Date.now() / 1000) - 10 });
      const res = await http.as(expired).get('/v1/me');
      expectProblem(res, 401, 'unauthorized');
      expect(res.body.detail).toMatch(/expired/);
    });

    it('a token accepted before (and remembered as verified) is refused once it expires', async () => {
      const u = await new UserFactory(http).create();
      const jwt = new JwtService({ secret: api.config.jwt.secret });
      // Far enough ahead that the two first requests are answered before it, even on a loaded machine.
      const exp = Math.floor(Date.now() / 1000) + 6;
      const token = jwt.sign({ sub: u.id, typ: 'access', exp });
      expect((await http.as(token).get('/v1/me')).status).toBe(200);
      expect((await http.as(token).get('/v1/me')).status).toBe(200);
      await new Promise((r) => setTimeout(r, exp * 1000 + 200 - Date.now()));
      const res = await http.as(token).get('/v1/me');
      expectProblem(res, 401, 'unauthorized');
      expect(res.body.detail).toMatch(/expired/);
    });

    it('refuses a token signed with another secret, or of another type', async () => {
      const u = await new UserFactory(http).create();
      const other = new JwtService({ secret: 'y'.repeat(40) }).sign({ sub: u.id, typ: 'access' });
      expectProblem(await http.as(other).get('/v1/me'), 401, 'unauthorized');
      const wrongType = new JwtService({ secret: api.config.jwt.secret }).sign({ sub: u.id, typ: 'refresh' });
      expectProblem(await http.as(wrongType).get('/v1/me'), 401, 'unauthorized');
      expectProblem(await http.as(u.refreshToken).get('/v1/me'), 401, 'unauthorized');
    });
  });

  describe('refresh tokens', () => {
    it('rotates: a refresh gives a new pair that works', async () => {
      const u = await new UserFactory(http).create();
      const res = await http.post('/v1/auth/refresh', { refreshToken: u.refreshToken });
      expect(res.status).toBe(200);
      expect(res.body.refreshToken).not.toBe(u.refreshToken);
      expect((await http.as(res.body.accessToken).get('/v1/me')).status).toBe(200);
      const again = await http.post('/v1/auth/refresh', { refreshToken: res.body.refreshToken });
      expect(again.status).toBe(200);
    });

    it('reuse of a spent token → 401 and the whole family is revoked', async () => {
      const u = await new UserFactory(http).create();
      const first = await http.post('/v1/auth/refresh', { refreshToken: u.refreshToken });
      expect(first.status).toBe(200);
      const replay = await http.post('/v1/auth/refresh', { refreshToken: u.refreshToken });
      expectProblem(replay, 401, 'unauthorized');
      const descendant = await http.post('/v1/auth/refresh', { refreshToken: first.body.refreshToken });
      expectProblem(descendant, 401, 'unauthorized');
    });

    it('of two concurrent refreshes with one token, exactly one wins', async () => {
      const u = await new UserFactory(http).create();
      const results = await Promise.all([1, 2, 3].map(() => http.post('/v1/auth/refresh', { refreshToken: u.refreshToken })));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    });

    it('other sessions of the same user survive a revoked family', async () => {
      const u = await new UserFactory(http).create();
      const second = await http.post('/v1/auth/login', { email: u.email, password: u.password });
      await http.post('/v1/auth/refresh', { refreshToken: u.refreshToken });
      await http.post('/v1/auth/refresh', { refreshToken: u.refreshToken }); // reuse → family 1 revoked
      expect((await http.post('/v1/auth/refresh', { refreshToken: second.body.refreshToken })).status).toBe(200);
    });

    it('rejects an unknown token', async () => {
      expectProblem(await http.post('/v1/auth/refresh', { refreshToken: 'pmr_not-a-real-token' }), 401, 'unauthorized');
    });
  });

  describe('logout', () => {
    it('→ 204 and the refresh token stops working', async () => {
      const u = await new UserFactory(http).create();
      const res = await u.http.post('/v1/auth/logout', { refreshToken: u.refreshToken });
      expect(res.status).toBe(204);
      expectProblem(await http.post('/v1/auth/refresh', { refreshToken: u.refreshToken }), 401, 'unauthorized');
    });

    it('needs an access token, and cannot end another user’s session', async () => {
      const a = await new UserFactory(http).create();
      const b = await new UserFactory(http).create();
      expectProblem(await http.post('/v1/auth/logout', { refreshToken: a.refreshToken }), 401, 'unauthorized');
      expect((await b.http.post('/v1/auth/logout', { refreshToken: a.refreshToken })).status).toBe(204);
      expect((await http.post('/v1/auth/refresh', { refreshToken: a.refreshToken })).status).toBe(200);
    });
  });

  describe('request ids and unknown routes', () => {
    it('echoes a caller’s x-request-id, or makes one', async () => {
      const given = await http.get('/health/live', { 'x-request-id': 'client-abc-123' });
      expect(given.headers.get('x-request-id')).toBe('client-abc-123');
      const made = await http.get('/health/live');
      expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers an unknown route with problem+json 404', async () => {
      const u = await new UserFactory(http).create();
      const res = await u.http.get('/v1/nothing-here');
      expectProblem(res, 404, 'not_found');
    });
  });
});
