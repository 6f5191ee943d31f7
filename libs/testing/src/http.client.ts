import { OpenApiResponseValidator, tallyOpenApiCheck } from './openapi-response.validator';

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * A small JSON-over-HTTP client for the e2e tests, speaking to a real listening API.
 * Every answer of a documented route is checked against openapi.json: a response the
 * document does not describe fails the request (and with it the test).
 */
export class HttpClient {
  constructor(
    readonly baseUrl: string,
    private token?: string,
  ) {}

  as(token: string | undefined): HttpClient {
    return new HttpClient(this.baseUrl, token);
  }

  async request<T = any>(
    method: string,
    path: string,
    opts: { json?: unknown; body?: RequestInit['body']; headers?: Record<string, string>; redirect?: RequestInit['redirect'] } = {},
  ): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body, redirect: opts.redirect ?? 'manual' });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    const problems = OpenApiResponseValidator.instance().check({ method, url: res.url || `${this.baseUrl}${path}`, status: res.status, headers: res.headers, text, body: parsed });
    if (problems) {
      tallyOpenApiCheck(problems.length ? 'mismatch' : 'checked');
      if (problems.length) throw new Error(`response does not match openapi.json:\n  ${problems.join('\n  ')}\nbody: ${text.slice(0, 500)}`);
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, { headers });
  }
  post<T = any>(path: string, json?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, { json, headers });
  }
  delete<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('DELETE', path, { headers });
  }
}
