import { Pixmill, PixmillError } from '@pixmill/sdk';
import { expectProblem, HttpClient, jpeg, postImage, RunningApi, startApi, TestUser, UserFactory } from '@pixmill/testing';

const SPEC = { operations: [{ op: 'resize', width: 64 }], output: { format: 'webp' } };

/**
 * API keys: made by a session, shown once, sent as `Authorization: Bearer pm_…`, limited to
 * their scopes on every route group (403 `insufficient_scope`), 401 once deleted.
 */
describe('API keys (e2e)', () => {
  let api: RunningApi;
  let http: HttpClient;
  let owner: TestUser;
  let imageId: string;

  beforeAll(async () => {
    api = await startApi();
    http = new HttpClient(api.baseUrl);
    owner = await new UserFactory(http).create();
    const up = await postImage(owner.http, await jpeg(96, 64, { seed: 5 }), 'k.jpg');
    expect(up.status).toBe(201);
    imageId = up.body.id;
  });
  afterAll(() => api.close());

  const makeKey = async (scopes: string[], name = 'server'): Promise<{ key: string; id: string; client: HttpClient }> => {
    const res = await owner.http.post('/v1/api-keys', { name, scopes });
    expect(res.status).toBe(201);
    return { key: res.body.key, id: res.body.id, client: http.as(res.body.key) };
  };

  it('POST shows the key once (pm_ + 40 base62); GET lists prefix, name, scopes, createdAt and lastUsedAt, never the key', async () => {
    const res = await owner.http.post('/v1/api-keys', { name: 'gallery backend', scopes: ['images:read', 'webhooks'] });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatch(/^pm_[0-9A-Za-z]{40}$/);
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true);
    expect(res.body).toMatchObject({ name: 'gallery backend', scopes: ['images:read', 'webhooks'], lastUsedAt: null });

    const listed = await owner.http.get('/v1/api-keys');
    expect(listed.status).toBe(200);
    const item = listed.body.items.find((k: { id: string }) => k.id === res.body.id);
    expect(item).toEqual({ id: res.body.id, prefix: res.body.prefix, name: 'gallery backend', scopes: ['images:read', 'webhooks'], createdAt: res.body.createdAt, lastUsedAt: null });
    expect(listed.text).not.toContain(res.body.key);

    expect((await http.as(res.body.key).get('/v1/images')).status).toBe(200);
    const after = (await owner.http.get('/v1/api-keys')).body.items.find((k: { id: string }) => k.id === res.body.id);
    expect(after.lastUsedAt).not.toBeNull();
  });

  it('a read-only key lists and reads images; uploads, renders and every other group answer 403 insufficient_scope', async () => {
    const { client } = await makeKey(['images:read']);
    expect((await client.get('/v1/images')).body.items.map((i: { id: string }) => i.id)).toContain(imageId);
    expect((await client.get(`/v1/images/${imageId}`)).status).toBe(200);
    expect((await client.get(`/v1/images/${imageId}/derivatives`)).status).toBe(200);
    expect((await client.get(`/v1/images/${imageId}/srcset?widths=100`)).status).toBe(200);

    expectProblem(await postImage(client, await jpeg(32, 32, { seed: 6 }), 'no.jpg'), 403, 'insufficient_scope');
    expectProblem(await client.delete(`/v1/images/${imageId}`), 403, 'insufficient_scope');
    expectProblem(await client.post('/v1/uploads', { filename: 'a.jpg', contentType: 'image/jpeg', bytes: 100 }), 403, 'insufficient_scope');
    expectProblem(await client.post(`/v1/images/${imageId}/transformations`, SPEC), 403, 'insufficient_scope');
    expectProblem(await client.get(`/v1/images/${imageId}/transform?resize=50x&wait=0`), 403, 'insufficient_scope');
    expectProblem(await client.get('/v1/jobs'), 403, 'insufficient_scope');
    expectProblem(await client.get('/v1/presets'), 403, 'insufficient_scope');
    expectProblem(await client.get('/v1/webhook-endpoints'), 403, 'insufficient_scope');
    expectProblem(await client.get('/v1/webhook-deliveries'), 403, 'insufficient_scope');
    expectProblem(await client.get('/v1/webhook-secret'), 403, 'insufficient_scope');
    expectProblem(await client.get('/v1/me'), 403, 'insufficient_scope');
    expectProblem(await client.get('/v1/url-keys'), 403, 'insufficient_scope');
    // The image is still there: nothing of the refused calls happened.
    expect((await owner.http.get(`/v1/images/${imageId}`)).status).toBe(200);
  });

  it('each scope opens its group; sessions-only routes refuse even a key with every scope', async () => {
    const { client } = await makeKey(['images:read', 'images:write', 'transformations', 'webhooks', 'account']);
    const up = await postImage(client, await jpeg(48, 32, { seed: 7 }), 'yes.jpg');
    expect(up.status).toBe(201);
    const job = await client.post(`/v1/images/${up.body.id}/transformations`, SPEC);
    expect(job.status).toBe(202);
    expect((await client.get(`/v1/jobs/${job.body.id}`)).status).toBe(200);
    expect((await client.get('/v1/jobs')).status).toBe(200);
    expect((await client.post('/v1/presets', { name: 'k-thumb', spec: SPEC })).status).toBe(201);
    expect((await client.get('/v1/webhook-endpoints')).status).toBe(200);
    expect((await client.get('/v1/webhook-secret')).status).toBe(200);
    expect((await client.get('/v1/me')).body.id).toBe(owner.id);
    expect((await client.get('/v1/url-keys')).status).toBe(200);
    expect((await client.delete(`/v1/images/${up.body.id}`)).status).toBe(204);

    expectProblem(await client.post('/v1/api-keys', { name: 'escalate', scopes: ['account'] }), 403, 'insufficient_scope');
    expectProblem(await client.get('/v1/api-keys'), 403, 'insufficient_scope');
    expectProblem(await client.post('/v1/me/password', { currentPassword: owner.password, newPassword: 'taken over by a key' }), 403, 'insufficient_scope');
    expectProblem(await client.request('DELETE', '/v1/me', { json: { password: owner.password } }), 403, 'insufficient_scope');
    expectProblem(await client.post('/v1/ops/ping', {}), 403, 'insufficient_scope');
    expect((await http.post('/v1/auth/login', { email: owner.email, password: owner.password })).status).toBe(200);
  });

  it('a deleted key answers 401 at once; another user cannot delete it (404); malformed and unknown keys are 401', async () => {
    const { key, id, client } = await makeKey(['images:read']);
    expect((await client.get('/v1/images')).status).toBe(200);
    const other = await new UserFactory(http).create();
    expectProblem(await other.http.delete(`/v1/api-keys/${id}`), 404, 'not_found');
    expect((await client.get('/v1/images')).status).toBe(200);

    expect((await owner.http.delete(`/v1/api-keys/${id}`)).status).toBe(204);
    expectProblem(await client.get('/v1/images'), 401, 'unauthorized');
    expect((await owner.http.get('/v1/api-keys')).body.items.map((k: { id: string }) => k.id)).not.toContain(id);
    expectProblem(await owner.http.delete(`/v1/api-keys/${id}`), 404, 'not_found');
    expectProblem(await http.as(`${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`).get('/v1/images'), 401, 'unauthorized');
    expectProblem(await http.as('pm_short').get('/v1/images'), 401, 'unauthorized');
    // The other user's key works for the other user only.
    const theirs = await other.http.post('/v1/api-keys', { name: 'theirs', scopes: ['images:read'] });
    expect((await http.as(theirs.body.key).get('/v1/images')).body.items).toEqual([]);
  });

  it('the SDK takes a key as a token given as is: reads work, a call outside its scopes throws insufficient_scope', async () => {
    const { key } = await makeKey(['images:read']);
    const px = new Pixmill({ baseUrl: api.baseUrl, tokens: { accessToken: key } });
    expect((await px.getImage(imageId)).id).toBe(imageId);
    const refused = await px.transform(imageId, SPEC as never).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PixmillError);
    expect(refused).toMatchObject({ status: 403, code: 'insufficient_scope' });
  });

  it('refuses bad bodies: unknown scopes, no scopes, blank names', async () => {
    expectProblem(await owner.http.post('/v1/api-keys', { name: 'x', scopes: ['admin'] }), 400, 'validation_failed');
    expectProblem(await owner.http.post('/v1/api-keys', { name: 'x', scopes: [] }), 400, 'validation_failed');
    expectProblem(await owner.http.post('/v1/api-keys', { name: '  ', scopes: ['images:read'] }), 400, 'validation_failed');
  });
});
