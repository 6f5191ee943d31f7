import { signUrl } from '@pixmill/sdk';
import type { DeliveryFilter, Derivative, Image, Job, Me, Page, Problem, Session, WebhookDelivery, WebhookEndpoint } from './types';

/** A problem+json answer (or a network failure, as `network_error`), thrown by every call. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
  get code(): string {
    return this.problem.code;
  }
  get status(): number {
    return this.problem.status;
  }
}

async function problemOf(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as Problem;
    if (body && typeof body.code === 'string') return new ApiError({ ...body, status: body.status ?? res.status });
  } catch {
    // not JSON: described from the status below
  }
  return new ApiError({ title: res.statusText || 'Request failed', status: res.status, code: 'http_' + res.status });
}

const REFRESH_KEY = 'pixmill.refresh';
/**
 * Preview URLs expire at the end of the next ten-minute window: one URL per spec for ten minutes, so the
 * browser (and a CDN) answer a repeated preview from cache, and a leaked URL stops working soon after.
 */
const PREVIEW_WINDOW_S = 600;

/** `a=1&b=x%2Cy` as decoded pairs in their order (the query syntax repeats keys). */
function queryPairs(query: string): Array<[string, string]> {
  return query
    .split('&')
    .filter(Boolean)
    .map((kv) => {
      const i = kv.indexOf('=');
      return i < 0 ? [decodeURIComponent(kv), ''] : [decodeURIComponent(kv.slice(0, i)), decodeURIComponent(kv.slice(i + 1))];
    });
}

export interface UploadHandle {
  promise: Promise<Image>;
  abort(): void;
}

/**
 * The console's only way to the API. The access token lives in this object (memory) alone; the refresh
 * token in sessionStorage, so a reload of the tab keeps the session and closing it ends it. A 401 is
 * answered once by a refresh (the API rotates the refresh token; concurrent 401s share one refresh),
 * then the request is retried; a failed refresh ends the session. Logout revokes and forgets both.
 */
export class ApiClient {
  private accessToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private listeners = new Set<(signedIn: boolean) => void>();
  private urlKeyPromise: Promise<string> | null = null;

  constructor(
    private readonly base = '',
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null = typeof sessionStorage === 'undefined' ? null : sessionStorage,
  ) {}

  get hasSession(): boolean {
    return this.accessToken !== null || !!this.storage?.getItem(REFRESH_KEY);
  }

  onSessionChange(fn: (signedIn: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private setSession(s: Session | null): void {
    if (!s) this.urlKeyPromise = null;
    this.accessToken = s?.accessToken ?? null;
    if (s) this.storage?.setItem(REFRESH_KEY, s.refreshToken);
    else this.storage?.removeItem(REFRESH_KEY);
    for (const fn of this.listeners) fn(s !== null);
  }

  private async send(path: string, init: RequestInit = {}, auth = true): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.body && typeof init.body === 'string') headers.set('content-type', 'application/json');
    if (auth && this.accessToken) headers.set('authorization', `Bearer ${this.accessToken}`);
    try {
      return await fetch(this.base + path, { ...init, headers });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError({ title: 'The API cannot be reached', status: 0, code: 'network_error', detail: (err as Error).message });
    }
  }

  /** An authenticated request: refreshes once on 401 and retries. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    if (!this.accessToken && this.hasSession) await this.refresh();
    let res = await this.send(path, init);
    if (res.status === 401 && (await this.refresh())) res = await this.send(path, init);
    if (res.status === 401) this.setSession(null);
    if (!res.ok && res.status !== 302) throw await problemOf(res);
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.request(path, init);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** Trades the stored refresh token for a new pair (single use: the API rotates it). */
  refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      const refreshToken = this.storage?.getItem(REFRESH_KEY);
      if (!refreshToken) return false;
      const res = await this.send('/v1/auth/refresh', { method: 'POST', body: JSON.stringify({ refreshToken }) }, false);
      if (!res.ok) {
        this.setSession(null);
        return false;
      }
      this.setSession((await res.json()) as Session);
      return true;
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async authenticate(path: string, email: string, password: string): Promise<Session> {
    const res = await this.send(path, { method: 'POST', body: JSON.stringify({ email, password }) }, false);
    if (!res.ok) throw await problemOf(res);
    const session = (await res.json()) as Session;
    this.urlKeyPromise = null;
    this.setSession(session);
    return session;
  }

  signup(email: string, password: string): Promise<Session> {
    return this.authenticate('/v1/auth/signup', email, password);
  }

  login(email: string, password: string): Promise<Session> {
    return this.authenticate('/v1/auth/login', email, password);
  }

  async logout(): Promise<void> {
    const refreshToken = this.storage?.getItem(REFRESH_KEY);
    try {
      if (this.accessToken && refreshToken) await this.send('/v1/auth/logout', { method: 'POST', body: JSON.stringify({ refreshToken }) });
    } finally {
      this.setSession(null);
    }
  }

  me = (): Promise<Me> => this.json('/v1/me');
  images = (cursor?: string | null, limit = 24): Promise<Page<Image>> =>
    this.json(`/v1/images?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  image = (id: string): Promise<Image> => this.json(`/v1/images/${id}`);
  derivatives = (id: string): Promise<{ items: Derivative[] }> => this.json(`/v1/images/${id}/derivatives`);
  deleteImage = (id: string): Promise<void> => this.json(`/v1/images/${id}`, { method: 'DELETE' });
  submitTransformation = (imageId: string, spec: unknown): Promise<Job> =>
    this.json(`/v1/images/${imageId}/transformations`, { method: 'POST', body: JSON.stringify(spec) });
  /** Long-poll: answers as soon as the job is final, or after `wait` seconds. */
  job = (id: string, wait = 0): Promise<Job> => this.json(`/v1/jobs/${id}${wait ? `?wait=${wait}` : ''}`);
  jobs = (cursor?: string | null, status?: string): Promise<Page<Job>> =>
    this.json(`/v1/jobs?limit=50${status ? `&status=${status}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  webhookEndpoints = (): Promise<{ items: WebhookEndpoint[] }> => this.json('/v1/webhook-endpoints');
  createWebhookEndpoint = (body: { url: string; events: string[]; description?: string }): Promise<WebhookEndpoint> =>
    this.json('/v1/webhook-endpoints', { method: 'POST', body: JSON.stringify(body) });
  updateWebhookEndpoint = (id: string, body: { enabled?: boolean }): Promise<WebhookEndpoint> =>
    this.json(`/v1/webhook-endpoints/${id}`, { method: 'PATCH', body: JSON.stringify(body) });
  deleteWebhookEndpoint = (id: string): Promise<void> => this.json(`/v1/webhook-endpoints/${id}`, { method: 'DELETE' });
  /** The delivery log, newest first, one page at a time; `endpointId` and `jobId` narrow it. */
  deliveries = (filter: DeliveryFilter = {}, cursor?: string | null, limit = 20): Promise<Page<WebhookDelivery>> => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (filter.endpointId) q.set('endpointId', filter.endpointId);
    if (filter.jobId) q.set('jobId', filter.jobId);
    if (cursor) q.set('cursor', cursor);
    return this.json(`/v1/webhook-deliveries?${q}`);
  };
  redeliver = (id: string): Promise<WebhookDelivery> => this.json(`/v1/webhook-deliveries/${id}/redeliver`, { method: 'POST' });

  /**
   * The account's current signing key of public URLs (`GET /v1/url-keys`, the one without `expiresAt`),
   * kept in memory only, like the access token: fetched once per session, forgotten at logout.
   */
  urlKey(): Promise<string> {
    this.urlKeyPromise ??= this.json<{ keys: { key: string; expiresAt: string | null }[] }>('/v1/url-keys').then((r) => {
      const key = r.keys.find((k) => k.expiresAt === null) ?? r.keys[0];
      if (!key) throw new ApiError({ title: 'No URL signing key', status: 0, code: 'invalid_response' });
      return key.key;
    });
    this.urlKeyPromise.catch(() => (this.urlKeyPromise = null));
    return this.urlKeyPromise;
  }

  /** Drops the key held in memory (it was rotated elsewhere): the next preview fetches the current one. */
  forgetUrlKey(): void {
    this.urlKeyPromise = null;
  }

  /**
   * A preview as a public signed URL (`/i/{id}?{query}&exp=…&sig=…`, SPEC §8) for a plain `<img src>`:
   * no token, so the browser and the CDN cache it like any image. Signed in the page with the SDK.
   */
  async previewUrl(imageId: string, query: string, now = Date.now()): Promise<string> {
    const exp = (Math.floor(now / 1000 / PREVIEW_WINDOW_S) + 2) * PREVIEW_WINDOW_S;
    return signUrl(imageId, queryPairs(query), await this.urlKey(), { baseUrl: this.base, expiresAt: exp });
  }

  /** Why a public URL does not load: its problem+json (an `<img>` cannot read it), or null when it does load now. */
  async publicUrlProblem(url: string): Promise<ApiError | null> {
    const res = await fetch(url).catch(() => null);
    if (!res) return new ApiError({ title: 'The API cannot be reached', status: 0, code: 'network_error' });
    return res.ok ? null : problemOf(res);
  }

  /**
   * A rendered preview as a blob: URL, for accounts whose public URLs take presets only. `GET …/transform` answers 302 to the delivery URL, which fetch
   * follows (the token goes only to the API; delivery URLs are signed). 202 means still rendering:
   * the job is long-polled, then its result URL fetched.
   */
  async preview(imageId: string, query: string, signal?: AbortSignal): Promise<{ url: string; bytes: number; type: string }> {
    let res = await this.request(`/v1/images/${imageId}/transform?${query}${query ? '&' : ''}wait=20`, { signal });
    if (res.status === 202) {
      let job = (await res.json()) as Job;
      while (job.status === 'queued' || job.status === 'active') job = await this.job(job.id, 20);
      if (!job.result) throw new ApiError({ title: 'The render failed', status: 422, code: job.error?.code ?? 'job_failed', detail: job.error?.message });
      res = await fetch(job.result.url, { signal });
    }
    const blob = await res.blob();
    return { url: URL.createObjectURL(blob), bytes: blob.size, type: blob.type };
  }

  /** A multipart upload with progress (XMLHttpRequest: fetch reports no upload progress). */
  upload(file: File, onProgress: (fraction: number) => void): UploadHandle {
    let xhr: XMLHttpRequest | null = null;
    let aborted = false;
    const attempt = (): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        xhr = new XMLHttpRequest();
        xhr.open('POST', `${this.base}/v1/images`);
        if (this.accessToken) xhr.setRequestHeader('authorization', `Bearer ${this.accessToken}`);
        xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
        xhr.onload = () => resolve({ status: xhr!.status, body: xhr!.responseText });
        xhr.onerror = () => reject(new ApiError({ title: 'The upload was interrupted', status: 0, code: 'network_error' }));
        xhr.onabort = () => reject(new ApiError({ title: 'Canceled', status: 0, code: 'canceled' }));
        const form = new FormData();
        form.append('file', file, file.name);
        xhr.send(form);
      });
    const promise = (async () => {
      if (!this.accessToken && this.hasSession) await this.refresh();
      let res = await attempt();
      if (res.status === 401 && !aborted && (await this.refresh())) res = await attempt();
      const body = res.body ? JSON.parse(res.body) : null;
      if (res.status >= 200 && res.status < 300) return body as Image;
      throw new ApiError(body?.code ? body : { title: 'Upload failed', status: res.status, code: 'http_' + res.status });
    })();
    return {
      promise,
      abort: () => {
        aborted = true;
        (xhr as XMLHttpRequest | null)?.abort();
      },
    };
  }
}

export const api = new ApiClient();
