import { hmacSha256, toBase64UrlNoPad, utf8 } from './hmac.util';

/** The options of a public image URL: the query syntax (resize, format, preset, dpr …), in order. */
export type PublicUrlOptions = Record<string, string | number | boolean> | Array<[string, string | number | boolean]>;

export interface SignUrlOptions {
  /** Prefixed to the signed path, e.g. `https://img.example.com` (default: a path alone). */
  baseUrl?: string;
  /** When the URL stops working: a Date or unix seconds. */
  expiresAt?: Date | number;
}

/**
 * A signed public URL `/i/{imageId}?{options}&exp=…&sig=…` for `<img src>` (no token needed).
 * The signature is base64url (no padding) of HMAC-SHA256, keyed with the URL key as
 * `GET /v1/url-keys` returns it (`pmk_…`, its UTF-8 bytes), over the request target as sent
 * (path and query, percent-encoding included) up to the `&sig=` / `?sig=` that starts it.
 */
export async function signUrl(imageId: string, options: PublicUrlOptions, key: string, opts: SignUrlOptions = {}): Promise<string> {
  const pairs: Array<[string, string]> = (Array.isArray(options) ? options : Object.entries(options)).map(([k, v]) => [k, String(v)]);
  if (opts.expiresAt !== undefined) {
    const exp = opts.expiresAt instanceof Date ? Math.floor(opts.expiresAt.getTime() / 1000) : Math.floor(opts.expiresAt);
    pairs.push(['exp', String(exp)]);
  }
  const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const target = `/i/${encodeURIComponent(imageId)}${query ? `?${query}` : ''}`;
  const sig = toBase64UrlNoPad(await hmacSha256(utf8(key), utf8(target)));
  return `${opts.baseUrl?.replace(/\/$/, '') ?? ''}${target}${query ? '&' : '?'}sig=${sig}`;
}
