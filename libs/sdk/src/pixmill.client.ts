import createClient, { Client } from 'openapi-fetch';
import type { components, paths } from './generated/openapi';
import { multipartBody, UploadData, UploadProgress } from './multipart.body';
import { PixmillError } from './pixmill.error';
import { hasXmlHttpRequest, xhrSend } from './xhr-upload';

type Schemas = components['schemas'];
export type AuthResponse = Schemas['AuthResponseDto'];
export type User = Schemas['UserDto'];
export type Me = Schemas['MeDto'];
export type Image = Schemas['ImageDto'];
export type Derivative = Schemas['DerivativeDto'];
export type Job = Schemas['JobDto'];
export type JobStatus = Job['status'];
export type JobResult = Schemas['JobResultDto'];
export type TransformationSpec = Schemas['TransformationSpecDto'];
export type WebhookDelivery = Schemas['WebhookDeliveryDto'];
export type WebhookEndpoint = Schemas['WebhookEndpointDto'];
export type CreateWebhookEndpoint = Schemas['CreateWebhookEndpointDto'];
export type UpdateWebhookEndpoint = Schemas['UpdateWebhookEndpointDto'];
export type WebhookEventType = WebhookEndpoint['events'][number];
export type UrlKey = Schemas['UrlKeyDto'];
export type ImagePlaceholder = Schemas['ImagePlaceholderDto'];
/** One page of a cursor-paged list: `nextCursor` asks for the next one, null on the last. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export type ImagesQuery = { limit?: number; cursor?: string };
export type JobsQuery = { imageId?: string; status?: JobStatus; limit?: number; cursor?: string };
export type WebhookDeliveriesQuery = { jobId?: string; endpointId?: string; limit?: number; cursor?: string };
/** A job that ended well: its `result` is there. */
export type SucceededJob = Job & { status: 'succeeded'; result: JobResult };

/**
 * A session's tokens. A page that kept only the refresh token (e.g. in sessionStorage) resumes with
 * `{accessToken: '', refreshToken, expiresAt: 0}`: an access token already expired is refreshed before
 * the first call.
 */
export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  /** When the access token expires (ms since the epoch); unknown for a token given as is. */
  expiresAt?: number;
}

export interface PixmillOptions {
  /** The API's address, e.g. `https://pixmill.example.com` (no `/v1`). */
  baseUrl: string;
  /** Tokens from an earlier login (or just an access token, such as `PIXMILL_TOKEN`). */
  tokens?: Tokens;
  /** Called with every new pair after a login or a refresh (refresh tokens rotate: keep the latest), and with null on logout. */
  onTokens?: (tokens: Tokens | null) => void;
  /** Refresh this many seconds before the access token expires (default 30). */
  refreshMarginSeconds?: number;
  fetch?: typeof fetch;
}

export interface UploadOptions {
  filename?: string;
  contentType?: string;
  /** The file's size in bytes, for progress of a stream (Blobs and buffers know theirs). */
  size?: number;
  /** Transformation specs rendered right away. */
  eager?: TransformationSpec[];
  webhookUrl?: string;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

export interface TransformOptions {
  idempotencyKey?: string;
  webhookUrl?: string;
}

export interface WaitOptions {
  /** Give up after this many milliseconds (default 120 000) with a `timeout` PixmillError. */
  timeout?: number;
  signal?: AbortSignal;
}

const FINAL: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'canceled']);
const MAX_LONG_POLL_SECONDS = 30;

/** Whether this runtime can send a streamed request body (Node 20; browsers over HTTP/2 only). */
function supportsRequestStreams(): boolean {
  try {
    let duplexRead = false;
    const hasContentType = new Request('http://localhost/', {
      body: new ReadableStream(),
      method: 'POST',
      get duplex() {
        duplexRead = true;
        return 'half';
      },
    } as RequestInit).headers.has('content-type');
    return duplexRead && !hasContentType && typeof (globalThis as { document?: unknown }).document === 'undefined';
  } catch {
    return false;
  }
}

/**
 * The Pixmill API client. `api` is the typed client generated from the OpenAPI document
 * (every route, typed bodies and answers); the methods here add what callers would write
 * by hand: token refresh with rotation, streamed uploads with progress, long-polled jobs,
 * paging, and problems as PixmillError.
 */
export class Pixmill {
  readonly api: Client<paths>;
  readonly baseUrl: string;
  private tokens: Tokens | undefined;
  private refreshing: Promise<Tokens> | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: PixmillOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.tokens = options.tokens;
    this.fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.api = createClient<paths>({ baseUrl: this.baseUrl, fetch: (request) => this.send(request, true) });
  }

  /** A client logged in with email and password. */
  static async login(options: PixmillOptions, email: string, password: string): Promise<Pixmill> {
    const client = new Pixmill(options);
    await client.login(email, password);
    return client;
  }

  /** A client for a new account. */
  static async signup(options: PixmillOptions, email: string, password: string): Promise<Pixmill> {
    const client = new Pixmill(options);
    await client.signup(email, password);
    return client;
  }

  /** The current tokens (to store them between runs). */
  get currentTokens(): Tokens | undefined {
    return this.tokens;
  }

  async login(email: string, password: string): Promise<AuthResponse> {
    return this.adopt(await this.unwrap(this.api.POST('/v1/auth/login', { body: { email, password } })));
  }

  async signup(email: string, password: string): Promise<AuthResponse> {
    return this.adopt(await this.unwrap(this.api.POST('/v1/auth/signup', { body: { email, password } })));
  }

  /** Exchanges the refresh token for a new pair (the old one is spent). Concurrent callers share one exchange. */
  refresh(): Promise<Tokens> {
    this.refreshing ??= this.exchangeRefreshToken().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Revokes the refresh token's family and forgets the tokens. */
  async logout(): Promise<void> {
    const refreshToken = this.tokens?.refreshToken;
    try {
      if (refreshToken) await this.unwrap(this.api.POST('/v1/auth/logout', { body: { refreshToken } }), true);
    } finally {
      // Forgotten here even when the API cannot be reached: logging out never leaves a session behind.
      this.setTokens(null);
    }
  }

  me(): Promise<Me> {
    return this.unwrap(this.api.GET('/v1/me'));
  }

  /**
   * Uploads an image as `POST /v1/images` multipart, streamed: a Blob or File, bytes (a
   * Buffer is one), or a stream (web ReadableStream or Node Readable, e.g. fs.createReadStream).
   * In a browser a Blob or File goes through XMLHttpRequest, the only way a page sees the progress
   * of what it sends; `signal` aborts it there too.
   */
  async upload(data: UploadData, opts: UploadOptions = {}): Promise<Image> {
    const fields: Array<{ name: string; value: string; contentType?: string }> = [];
    if (opts.eager) fields.push({ name: 'eager', value: JSON.stringify(opts.eager), contentType: 'application/json' });
    if (opts.webhookUrl) fields.push({ name: 'webhookUrl', value: opts.webhookUrl });
    const filename = opts.filename ?? (data as { name?: string }).name ?? basename((data as { path?: unknown }).path) ?? 'upload';
    const contentType = opts.contentType ?? ((data as Blob).type || undefined);
    const isBlob = typeof Blob !== 'undefined' && data instanceof Blob;
    const url = `${this.baseUrl}/v1/images`;
    if (isBlob && !supportsRequestStreams()) {
      const blob = data as Blob;
      const form = new FormData();
      for (const f of fields) form.append(f.name, f.contentType ? new Blob([f.value], { type: f.contentType }) : f.value);
      form.append('file', blob, filename);
      opts.onProgress?.({ loaded: 0, total: blob.size });
      const request = new Request(url, { method: 'POST', body: form, signal: opts.signal });
      // XMLHttpRequest reports progress as bytes leave; without it (a worker runtime) the Blob goes whole.
      const res = hasXmlHttpRequest()
        ? await this.send(request, true, (r) => this.transport(r, () => xhrSend(r, form, blob.size, opts.onProgress)))
        : await this.send(request, false);
      const body = await readBody(res);
      if (!res.ok) throw PixmillError.fromProblem(body, res);
      opts.onProgress?.({ loaded: blob.size, total: blob.size });
      return body as Image;
    }
    const multipart = multipartBody(fields, { data, filename, contentType, size: opts.size }, opts.onProgress);
    const init = { method: 'POST', body: multipart.body, headers: { 'content-type': multipart.contentType }, duplex: 'half', signal: opts.signal } as RequestInit;
    const res = await this.send(new Request(url, init), false);
    const body = await readBody(res);
    if (!res.ok) throw PixmillError.fromProblem(body, res);
    return body as Image;
  }

  getImage(id: string): Promise<Image> {
    return this.unwrap(this.api.GET('/v1/images/{id}', { params: { path: { id } } }));
  }

  async deleteImage(id: string): Promise<void> {
    await this.unwrap(this.api.DELETE('/v1/images/{id}', { params: { path: { id } } }), true);
  }

  async derivatives(imageId: string): Promise<Derivative[]> {
    return (await this.unwrap(this.api.GET('/v1/images/{id}/derivatives', { params: { path: { id: imageId } } }))).items;
  }

  /** One page of your images, newest first: pass the previous page's `nextCursor` as `cursor` (for infinite lists). */
  imagesPage(query: ImagesQuery = {}): Promise<Page<Image>> {
    return this.unwrap(this.api.GET('/v1/images', { params: { query } }));
  }

  /** One page of your jobs, newest first, filtered by image or status. */
  jobsPage(query: JobsQuery = {}): Promise<Page<Job>> {
    return this.unwrap(this.api.GET('/v1/jobs', { params: { query } }));
  }

  /** One page of your webhook deliveries, newest first, each with its attempts; filtered by job or endpoint. */
  webhookDeliveriesPage(query: WebhookDeliveriesQuery = {}): Promise<Page<WebhookDelivery>> {
    return this.unwrap(this.api.GET('/v1/webhook-deliveries', { params: { query: query as never } }));
  }

  /** Your images, newest first, page after page. */
  listImages(query: Omit<ImagesQuery, 'cursor'> = {}): AsyncGenerator<Image> {
    return this.paged((cursor) => this.imagesPage({ ...query, cursor }));
  }

  /** Your jobs, newest first, page after page (filtered by image or status). */
  listJobs(query: Omit<JobsQuery, 'cursor'> = {}): AsyncGenerator<Job> {
    return this.paged((cursor) => this.jobsPage({ ...query, cursor }));
  }

  /** Every delivery attempt of your webhooks, page after page. */
  listWebhookDeliveries(query: Omit<WebhookDeliveriesQuery, 'cursor'> = {}): AsyncGenerator<WebhookDelivery> {
    return this.paged((cursor) => this.webhookDeliveriesPage({ ...query, cursor }));
  }

  /** Your webhook endpoints (each with its own signing secret). */
  async listWebhookEndpoints(): Promise<WebhookEndpoint[]> {
    return (await this.unwrap(this.api.GET('/v1/webhook-endpoints'))).items;
  }

  /** Registers an endpoint for `events`; its `secret` (`whsec_…`) signs what it receives. */
  createWebhookEndpoint(body: CreateWebhookEndpoint): Promise<WebhookEndpoint> {
    return this.unwrap(this.api.POST('/v1/webhook-endpoints', { body }));
  }

  /** Changes an endpoint: `enabled: false` stops deliveries, `true` resumes them (also after a 410 Gone). */
  updateWebhookEndpoint(id: string, body: UpdateWebhookEndpoint): Promise<WebhookEndpoint> {
    return this.unwrap(this.api.PATCH('/v1/webhook-endpoints/{id}', { params: { path: { id } }, body }));
  }

  /** Deletes an endpoint; its delivery log stays. */
  async deleteWebhookEndpoint(id: string): Promise<void> {
    await this.unwrap(this.api.DELETE('/v1/webhook-endpoints/{id}', { params: { path: { id } } }), true);
  }

  /** Sends a delivery's message again (same `webhook-id`) as a new delivery, which it answers. */
  redeliverWebhook(deliveryId: string): Promise<WebhookDelivery> {
    return this.unwrap(this.api.POST('/v1/webhook-deliveries/{id}/redeliver', { params: { path: { id: deliveryId } } }));
  }

  /**
   * Admins: a single-use link, valid for a minute, that signs the browser opening it in to the
   * queue dashboard at `/admin/queues` (any other account gets a `not_found` PixmillError).
   */
  queueDashboardLink(): Promise<{ url: string; expiresAt: string }> {
    return this.unwrap(this.api.POST('/v1/admin/queues/session'));
  }

  /** Your signing keys of public URLs; the current one (`expiresAt: null`) first, for `signUrl`. */
  async urlKeys(): Promise<UrlKey[]> {
    const { keys } = await this.unwrap(this.api.GET('/v1/url-keys'));
    return [...keys].sort((a, b) => Number(a.expiresAt !== null) - Number(b.expiresAt !== null));
  }

  /** Requests a transformation: a queued job, or a succeeded one with `cached: true` when the derivative exists. */
  transform(imageId: string, spec: TransformationSpec, opts: TransformOptions = {}): Promise<Job> {
    return this.unwrap(
      this.api.POST('/v1/images/{id}/transformations', {
        params: { path: { id: imageId }, header: opts.idempotencyKey ? { 'Idempotency-Key': opts.idempotencyKey } : undefined },
        body: { ...spec, webhookUrl: opts.webhookUrl } as Schemas['SubmitTransformationDto'],
      }),
    );
  }

  /**
   * The on-the-fly route with the query syntax (`resize=300x200&format=webp`, keys may repeat):
   * the delivery URL when the derivative exists or is rendered within `wait` seconds, else the job.
   */
  async transformQuery(imageId: string, query: Array<[string, string]>, opts: { wait?: number } = {}): Promise<{ url: string; job?: undefined } | { url?: undefined; job: Job }> {
    const params = new URLSearchParams(query);
    if (opts.wait !== undefined) params.set('wait', String(opts.wait));
    const res = await this.send(new Request(`${this.baseUrl}/v1/images/${encodeURIComponent(imageId)}/transform?${params}`, { redirect: 'manual' }), true);
    if (res.status === 302) return { url: res.headers.get('location')! };
    const body = await readBody(res);
    if (res.status !== 202) throw PixmillError.fromProblem(body, res);
    return { job: body as Job };
  }

  /** A job; with `wait`, long-polls up to that many seconds (≤ 30) for a final status. */
  getJob(id: string, opts: { wait?: number; signal?: AbortSignal } = {}): Promise<Job> {
    return this.unwrap(this.api.GET('/v1/jobs/{id}', { params: { path: { id }, query: opts.wait ? { wait: opts.wait } : undefined }, signal: opts.signal }));
  }

  cancelJob(id: string): Promise<Job> {
    return this.unwrap(this.api.DELETE('/v1/jobs/{id}', { params: { path: { id } } }));
  }

  /** Long-polls a job until it is final (succeeded, failed or canceled) and returns it. */
  async waitForJob(id: string, opts: WaitOptions = {}): Promise<Job> {
    const deadline = Date.now() + (opts.timeout ?? 120_000);
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const job = await this.getJob(id, { wait: Math.max(0, Math.min(MAX_LONG_POLL_SECONDS, left)), signal: opts.signal });
      if (FINAL.has(job.status)) return job;
      if (Date.now() >= deadline) throw new PixmillError('timeout', `job ${id} is still ${job.status}`, 0, { jobId: id });
    }
  }

  /** Requests a transformation and waits for its result; a failed or canceled job throws its code. */
  async transformAndWait(imageId: string, spec: TransformationSpec, opts: TransformOptions & WaitOptions = {}): Promise<SucceededJob> {
    const submitted = await this.transform(imageId, spec, opts);
    const job = FINAL.has(submitted.status) ? submitted : await this.waitForJob(submitted.id, opts);
    if (job.status !== 'succeeded' || !job.result) throw PixmillError.fromJob(job);
    return job as SucceededJob;
  }

  /** The bytes behind a delivery URL (a job's `result.url`, an image's `urls`), or of a succeeded job. */
  async download(source: string | Job): Promise<Uint8Array> {
    const url = typeof source === 'string' ? source : source.result?.url;
    if (!url) throw new PixmillError('not_found', 'the job has no result to download', 404);
    const res = await this.fetchImpl(new URL(url, this.baseUrl));
    if (!res.ok) throw PixmillError.fromProblem(await readBody(res), res);
    return new Uint8Array(await res.arrayBuffer());
  }

  private async *paged<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>): AsyncGenerator<T> {
    let cursor: string | undefined;
    do {
      const result = await page(cursor);
      yield* result.items;
      cursor = result.nextCursor ?? undefined;
    } while (cursor);
  }

  private async unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>, empty = false): Promise<T> {
    const { data, error, response } = await call;
    if (!response.ok || error !== undefined) throw PixmillError.fromProblem(error, response);
    if (data === undefined && !empty) throw new PixmillError('invalid_response', `empty answer from ${response.url}`, response.status);
    return data as T;
  }

  /**
   * Sends a request with the access token, refreshing it first when due and once more on a 401
   * (replayable requests only). `transport` sends it (fetch unless told otherwise).
   */
  private async send(request: Request, replayable: boolean, transport: (request: Request) => Promise<Response> = (r) => this.fetchOrThrow(r)): Promise<Response> {
    if (isAuthRoute(request.url)) return this.fetchOrThrow(request);
    const margin = (this.options.refreshMarginSeconds ?? 30) * 1000;
    if (this.tokens?.refreshToken && this.tokens.expiresAt !== undefined && this.tokens.expiresAt - margin <= Date.now()) await this.refresh();
    const retry = replayable && this.tokens?.refreshToken ? request.clone() : undefined;
    const res = await transport(this.authorized(request));
    if (res.status !== 401 || !retry) return res;
    await this.refresh();
    return transport(this.authorized(retry));
  }

  /** Runs `send`, turning a failure to connect into a `network_error` PixmillError (an abort stays an AbortError). */
  private async transport(request: Request, send: () => Promise<Response>): Promise<Response> {
    try {
      return await send();
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new PixmillError('network_error', `${request.method} ${request.url}: ${(err as Error)?.message ?? err}`, 0);
    }
  }

  private authorized(request: Request): Request {
    if (this.tokens) request.headers.set('authorization', `Bearer ${this.tokens.accessToken}`);
    return request;
  }

  private fetchOrThrow(request: Request): Promise<Response> {
    return this.transport(request, () => this.fetchImpl(request));
  }

  private async exchangeRefreshToken(): Promise<Tokens> {
    const refreshToken = this.tokens?.refreshToken;
    if (!refreshToken) throw new PixmillError('unauthorized', 'no refresh token: log in again', 401);
    try {
      const auth = await this.unwrap(this.api.POST('/v1/auth/refresh', { body: { refreshToken } }));
      return this.adopt(auth) && this.tokens!;
    } catch (err) {
      // A spent or revoked token stays refused: forget it so callers see `unauthorized` and log in again.
      if (err instanceof PixmillError && err.status === 401) this.setTokens(null);
      throw err;
    }
  }

  private adopt(auth: AuthResponse): AuthResponse {
    this.setTokens({ accessToken: auth.accessToken, refreshToken: auth.refreshToken, expiresAt: Date.now() + auth.expiresIn * 1000 });
    return auth;
  }

  private setTokens(tokens: Tokens | null): void {
    this.tokens = tokens ?? undefined;
    this.options.onTokens?.(tokens);
  }
}

function isAuthRoute(url: string): boolean {
  return /\/v1\/auth\/(login|signup|refresh)$/.test(new URL(url).pathname);
}

function basename(path: unknown): string | undefined {
  return typeof path === 'string' ? path.split(/[\\/]/).pop() : undefined;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
