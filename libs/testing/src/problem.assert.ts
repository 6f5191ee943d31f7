import type { HttpResponse } from './http.client';

/**
 * What every error answer must look like to a client: the status, problem+json
 * with the stable `code`, a request id, and no stack trace.
 */
export function expectProblem(res: HttpResponse, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: expect.stringContaining(code), title: expect.any(String) });
  expect(res.body.requestId).toEqual(expect.any(String));
  expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
}
