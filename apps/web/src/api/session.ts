import { Pixmill, PixmillError, signUrl, type AuthResponse, type Image, type Tokens } from '@pixmill/sdk';

const REFRESH_KEY = 'pixmill.refresh';
/**
 * Preview URLs expire at the end of the next ten-minute window: one URL per spec for ten minutes, so the
 * browser (and a CDN) answer a repeated preview from cache, and a leaked URL stops working soon after.
 */
const PREVIEW_WINDOW_S = 600;

type SessionStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

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
 * The console's session around the SDK client (`sdk`), through which every call goes. The SDK holds
 * the access token in memory and refreshes it on a 401 (or when due), rotating the refresh token;
 * this keeps the refresh token in sessionStorage, so a reload of the tab resumes the session and
 * closing it ends it, and tells the app when the session begins or ends. Logout revokes and forgets
 * both. The signing key of public URLs is held in memory only, like the access token.
 */
export class ConsoleSession {
  readonly sdk: Pixmill;
  private listeners = new Set<(signedIn: boolean) => void>();
  private urlKeyPromise: Promise<string> | null = null;

  constructor(
    baseUrl = typeof location === 'undefined' ? 'http://localhost' : location.origin,
    private readonly storage: SessionStore | null = typeof sessionStorage === 'undefined' ? null : sessionStorage,
    fetchImpl?: typeof fetch,
  ) {
    const refreshToken = storage?.getItem(REFRESH_KEY);
    this.sdk = new Pixmill({
      baseUrl,
      fetch: fetchImpl,
      // Only the refresh token survived the reload: an access token that has expired makes the first call refresh.
      tokens: refreshToken ? { accessToken: '', refreshToken, expiresAt: 0 } : undefined,
      onTokens: (tokens) => this.tokensChanged(tokens),
    });
  }

  get hasSession(): boolean {
    return this.sdk.currentTokens !== undefined;
  }

  onSessionChange(fn: (signedIn: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private tokensChanged(tokens: Tokens | null): void {
    if (tokens?.refreshToken) this.storage?.setItem(REFRESH_KEY, tokens.refreshToken);
    if (!tokens) {
      this.storage?.removeItem(REFRESH_KEY);
      this.urlKeyPromise = null;
    }
    for (const fn of this.listeners) fn(tokens !== null);
  }

  signup(email: string, password: string): Promise<AuthResponse> {
    this.urlKeyPromise = null;
    return this.sdk.signup(email, password);
  }

  login(email: string, password: string): Promise<AuthResponse> {
    this.urlKeyPromise = null;
    return this.sdk.login(email, password);
  }

  /** Revokes the session; the tokens are forgotten even when the API cannot be reached. */
  logout(): Promise<void> {
    return this.sdk.logout();
  }

  /** An upload with per-file progress (0–1) and cancel, for the upload queue. */
  upload(file: File, onProgress: (fraction: number) => void): UploadHandle {
    const ctl = new AbortController();
    const promise = this.sdk.upload(file, { signal: ctl.signal, onProgress: (p) => p.total && onProgress(p.loaded / p.total) });
    return { promise, abort: () => ctl.abort() };
  }

  /** The account's current signing key of public URLs, fetched once per session. */
  urlKey(): Promise<string> {
    this.urlKeyPromise ??= this.sdk.urlKeys().then(([current]) => current.key);
    this.urlKeyPromise.catch(() => (this.urlKeyPromise = null));
    return this.urlKeyPromise;
  }

  /** Drops the key held in memory (it was rotated elsewhere): the next preview fetches the current one. */
  forgetUrlKey(): void {
    this.urlKeyPromise = null;
  }

  /** Why a public URL does not load: its problem (an `<img>` cannot read it), or null when it loads now. */
  async publicUrlProblem(url: string): Promise<PixmillError | null> {
    const res = await fetch(url).catch(() => null);
    if (!res) return new PixmillError('network_error', 'The API cannot be reached', 0);
    return res.ok ? null : PixmillError.fromProblem(await res.json().catch(() => undefined), res);
  }

  /**
   * A preview as a public signed URL (`/i/{id}?{query}&exp=…&sig=…`, SPEC §8) for a plain `<img src>`:
   * no token, so the browser and the CDN cache it like any image. Signed in the page with the SDK.
   */
  async previewUrl(imageId: string, query: string, now = Date.now()): Promise<string> {
    const exp = (Math.floor(now / 1000 / PREVIEW_WINDOW_S) + 2) * PREVIEW_WINDOW_S;
    return signUrl(imageId, queryPairs(query), await this.urlKey(), { expiresAt: exp });
  }
}

export const session = new ConsoleSession();
/** The SDK client of the signed-in session: every call of the console to the API. */
export const sdk = session.sdk;
