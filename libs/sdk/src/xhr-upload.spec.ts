import { Pixmill } from './pixmill.client';

/**
 * A stand-in for the browser's XMLHttpRequest: records each request, reports upload progress in
 * two steps and answers what the test queued. (Node has no XMLHttpRequest; this is the boundary.)
 */
class FakeXhr {
  static sent: Array<{ method: string; url: string; headers: Record<string, string>; body: FormData }> = [];
  static answers: Array<{ status: number; body: unknown } | 'hang'> = [];
  status = 0;
  statusText = '';
  responseText = '';
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  private method = '';
  private url = '';
  private headers: Record<string, string> = {};
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getAllResponseHeaders() {
    return 'content-type: application/json\r\nx-request-id: req-1\r\n';
  }
  send(body: FormData) {
    FakeXhr.sent.push({ method: this.method, url: this.url, headers: this.headers, body });
    const answer = FakeXhr.answers.shift()!;
    if (answer === 'hang') return;
    setTimeout(() => {
      this.upload.onprogress?.({ lengthComputable: true, loaded: 500, total: 1000 });
      this.upload.onprogress?.({ lengthComputable: true, loaded: 1000, total: 1000 });
      this.status = answer.status;
      this.responseText = JSON.stringify(answer.body);
      this.onload?.();
    }, 1);
  }
  abort() {
    this.onabort?.();
  }
}

const auth = (n: number) => ({ user: { id: 'u', email: 'a@example.com', plan: 'free', emailVerified: false }, accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresIn: 900 });

describe('upload in a browser (XMLHttpRequest)', () => {
  const g = globalThis as { XMLHttpRequest?: unknown; document?: unknown };
  beforeEach(() => {
    FakeXhr.sent = [];
    FakeXhr.answers = [];
    g.XMLHttpRequest = FakeXhr;
    // A document marks a browser page, where fetch would not stream a request body.
    g.document = {};
  });
  afterEach(() => {
    delete g.XMLHttpRequest;
    delete g.document;
  });

  it('sends the File with the access token, reports its progress in file bytes, and answers the image', async () => {
    const fetch = jest.fn(async () => Response.json(auth(1)));
    const px = new Pixmill({ baseUrl: 'http://api.test', fetch });
    await px.login('a@example.com', 'pw');
    FakeXhr.answers.push({ status: 201, body: { id: 'img-1', filename: 'cat.jpg' } });
    const progress: Array<[number, number | undefined]> = [];
    const file = new File([new Uint8Array(2000)], 'cat.jpg', { type: 'image/jpeg' });
    const image = await px.upload(file, { eager: [{ output: { format: 'webp' } }], onProgress: (p) => progress.push([p.loaded, p.total]) });
    expect(image).toEqual({ id: 'img-1', filename: 'cat.jpg' });
    expect(progress).toEqual([[0, 2000], [1000, 2000], [2000, 2000], [2000, 2000]]);
    const [sent] = FakeXhr.sent;
    expect([sent.method, sent.url, sent.headers.authorization]).toEqual(['POST', 'http://api.test/v1/images', 'Bearer access-1']);
    expect((sent.body.get('file') as File).name).toBe('cat.jpg');
    expect(await (sent.body.get('eager') as Blob).text()).toBe('[{"output":{"format":"webp"}}]');
  });

  it('on 401 refreshes once (the refresh token rotates) and sends the same form again with the new token', async () => {
    let n = 0;
    const fetch = jest.fn(async () => Response.json(auth(++n)));
    const tokens: Array<string | undefined> = [];
    const px = new Pixmill({ baseUrl: 'http://api.test', fetch, onTokens: (t) => tokens.push(t?.refreshToken) });
    await px.login('a@example.com', 'pw');
    FakeXhr.answers.push({ status: 401, body: { code: 'unauthorized', status: 401, title: 'Unauthorized' } }, { status: 201, body: { id: 'img-2' } });
    expect(await px.upload(new Blob([new Uint8Array(10)], { type: 'image/png' }))).toEqual({ id: 'img-2' });
    expect(FakeXhr.sent.map((s) => s.headers.authorization)).toEqual(['Bearer access-1', 'Bearer access-2']);
    expect(FakeXhr.sent[1].body).toBe(FakeXhr.sent[0].body);
    expect(tokens).toEqual(['refresh-1', 'refresh-2']);
  });

  it('a refused upload is a PixmillError with the problem’s code; an aborted one rejects with AbortError', async () => {
    const px = new Pixmill({ baseUrl: 'http://api.test', tokens: { accessToken: 'key' }, fetch: jest.fn() });
    FakeXhr.answers.push({ status: 415, body: { code: 'unsupported_media_type', status: 415, title: 'Unsupported Media Type', requestId: 'req-9' } });
    expect(await px.upload(new Blob(['text'])).catch((e) => e)).toMatchObject({ name: 'PixmillError', code: 'unsupported_media_type', status: 415, requestId: 'req-9' });
    FakeXhr.answers.push('hang');
    const ctl = new AbortController();
    const pending = px.upload(new Blob(['x']), { signal: ctl.signal }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 5));
    ctl.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
  });
});

describe('logout', () => {
  it('forgets the tokens even when the API cannot be reached', async () => {
    const tokens: unknown[] = [];
    const px = new Pixmill({ baseUrl: 'http://api.test', tokens: { accessToken: 'a', refreshToken: 'r' }, onTokens: (t) => tokens.push(t), fetch: jest.fn(async () => Promise.reject(new TypeError('offline'))) });
    expect(await px.logout().catch((e) => e)).toMatchObject({ code: 'network_error' });
    expect([px.currentTokens, tokens]).toEqual([undefined, [null]]);
  });
});
