import { OpenApiResponseValidator, ObservedResponse } from './openapi-response.validator';

const BASE = 'http://127.0.0.1:1';
const JOB = {
  id: '3f0c7d3e-9a53-4b8e-8f43-2b8a8f0d1e11',
  imageId: '0d7a3b6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
  status: 'queued',
  progress: 0,
  attempts: 0,
  cached: false,
  spec: { operations: [], output: { format: 'webp' } },
  error: null,
  result: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
};

function response(method: string, pathname: string, status: number, body: unknown, headers: Record<string, string> = {}): ObservedResponse {
  const text = body === undefined ? '' : JSON.stringify(body);
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return { method, url: `${BASE}${pathname}`, status, text, body, headers: new Headers(body === undefined ? headers : { 'content-type': type, ...headers }) };
}

describe('OpenApiResponseValidator (against the committed openapi.json)', () => {
  const validator = OpenApiResponseValidator.instance();
  const jobPath = `/v1/jobs/${JOB.id}`;

  it('accepts a queued job with null error and result, Retry-After and RateLimit-* documented', () => {
    expect(validator.check(response('GET', jobPath, 200, JOB, { 'retry-after': '1', 'ratelimit-limit': '100', 'ratelimit-remaining': '99', 'ratelimit-reset': '60' }))).toEqual([]);
  });

  it('refuses a body off its schema, naming the field', () => {
    const problems = validator.check(response('GET', jobPath, 200, { ...JOB, status: 'sleeping', result: 'x' }));
    expect(problems?.join('\n')).toMatch(/body\/status must be equal to one of the allowed values/);
    expect(problems?.join('\n')).toMatch(/body\/result/);
  });

  it('refuses an undocumented status, media type and header, and a missing required header', () => {
    expect(validator.check(response('GET', jobPath, 418, { code: 'teapot' }))).toEqual([expect.stringMatching(/418: status not documented/)]);
    const text = { ...response('GET', jobPath, 200, JOB), headers: new Headers({ 'content-type': 'text/html' }) };
    expect(validator.check(text)).toEqual([expect.stringMatching(/content-type text\/html is not documented/)]);
    expect(validator.check(response('GET', '/v1/me', 401, { type: 'about:blank', title: 'x', status: 401, detail: 'x', code: 'unauthorized', requestId: 'r' }, { location: '/x' }))).toEqual([
      expect.stringMatching(/header location is sent but not documented/),
    ]);
    expect(validator.check(response('GET', `/v1/images/${JOB.imageId}/original`, 302, undefined))).toEqual([expect.stringMatching(/required header location is missing/)]);
  });

  it('holds a problem to the codes documented for its status', () => {
    const problem = { type: 'about:blank', title: 'Not found', status: 404, detail: 'x', code: 'email_taken', requestId: 'r' };
    expect(validator.check(response('GET', jobPath, 404, problem))?.join('\n')).toMatch(/body\/code must be equal to one of the allowed values/);
  });

  it('leaves routes outside the document alone, but not an unknown /v1 route that answers', () => {
    expect(validator.check(response('GET', '/somewhere/else', 200, { ok: true }))).toBeNull();
    expect(validator.check(response('GET', '/v1/nothing-here', 404, { code: 'not_found' }))).toBeNull();
    expect(validator.check(response('GET', '/v1/nothing-here', 200, {}))).toEqual([expect.stringMatching(/no documented route matches/)]);
  });
});
