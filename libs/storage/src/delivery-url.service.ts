import { getSignedUrl as getCloudFrontSignedUrl } from '@aws-sdk/cloudfront-signer';
import { LocalUrlSigner } from './local-url.signer';
import { S3StorageDriver } from './s3-storage.driver';
import { StorageDriver } from './storage.driver';

export interface DeliveryUrlOptions {
  /** CDN_BASE_URL: when set, URLs point at the CDN. */
  cdnBaseUrl?: string;
  /** CLOUDFRONT_KEY_PAIR_ID + CLOUDFRONT_PRIVATE_KEY (PEM): when both are set, CDN URLs are CloudFront-signed. */
  cloudfrontKeyPairId?: string;
  cloudfrontPrivateKey?: string;
  /** DELIVERY_URL_TTL in seconds [3600]. */
  defaultTtlSeconds?: number;
  /** PUBLIC_BASE_URL: the API's own address, which serves /files/… for the local driver. */
  publicBaseUrl: string;
  /** Secret for local file URLs (needed only with the local driver and no CDN). */
  signingSecret?: string;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Expiries are aligned to 5-minute windows: within one window every request for a key gets
 * the same URL, so browsers and the CDN can cache it (a per-second expiry would make every
 * URL unique). A URL is valid for at least the TTL and at most TTL + 5 minutes.
 */
export const EXPIRY_WINDOW_SECONDS = 300;

/** URLs remembered per window; past this many, the memo starts over (a bound on memory, not a tuning knob). */
const MEMO_MAX_ENTRIES = 10_000;

/**
 * The URL a client fetches an object from (SPEC §1: CDN → object storage; the API never
 * streams image bytes, except the local driver's stand-in file route):
 * 1. cdnBaseUrl set → `${cdnBaseUrl}/${key}`, CloudFront-signed (canned policy, dateLessThan)
 *    when a key pair is configured, plain otherwise (public, e.g. nginx in docker compose);
 * 2. s3 driver → a presigned GET;
 * 3. local driver → `${publicBaseUrl}/files/${key}?expires=…&sig=…` (LocalUrlSigner).
 */
export class DeliveryUrlService {
  private readonly defaultTtlSeconds: number;
  private readonly now: () => number;
  private readonly localSigner?: LocalUrlSigner;
  /**
   * Within a window a key's URL is always the same, so it is signed once per window and
   * remembered (signing, HMAC for local and S3 URLs and RSA for CloudFront, was a visible
   * share of a poll's CPU). Cleared when the window moves on, so no URL outlives its expiry.
   */
  private readonly memo = new Map<string, string>();
  private memoWindow = -1;

  constructor(
    private readonly driver: StorageDriver,
    private readonly options: DeliveryUrlOptions,
  ) {
    this.defaultTtlSeconds = options.defaultTtlSeconds ?? 3600;
    this.now = options.now ?? Date.now;
    if (Boolean(options.cloudfrontKeyPairId) !== Boolean(options.cloudfrontPrivateKey)) {
      throw new Error('CLOUDFRONT_KEY_PAIR_ID and CLOUDFRONT_PRIVATE_KEY must be set together');
    }
    if (!options.cdnBaseUrl && driver.kind === 'local') {
      if (!options.signingSecret) throw new Error('DeliveryUrlService needs signingSecret for local file URLs');
      this.localSigner = new LocalUrlSigner(options.signingSecret, this.now);
    }
  }

  async urlFor(key: string, opts: { ttlSeconds?: number } = {}): Promise<string> {
    const ttl = opts.ttlSeconds ?? this.defaultTtlSeconds;
    const windowStart = Math.floor(this.now() / 1000 / EXPIRY_WINDOW_SECONDS) * EXPIRY_WINDOW_SECONDS;
    if (windowStart !== this.memoWindow || this.memo.size >= MEMO_MAX_ENTRIES) {
      this.memo.clear();
      this.memoWindow = windowStart;
    }
    const memoKey = `${ttl}:${key}`;
    let url = this.memo.get(memoKey);
    if (url === undefined) {
      url = await this.sign(key, windowStart, windowStart + EXPIRY_WINDOW_SECONDS + ttl); // ≥ now + ttl, constant within the window
      this.memo.set(memoKey, url);
    }
    return url;
  }

  private async sign(key: string, windowStart: number, expires: number): Promise<string> {
    const { cdnBaseUrl, cloudfrontKeyPairId, cloudfrontPrivateKey } = this.options;

    if (cdnBaseUrl) {
      const url = `${trimSlash(cdnBaseUrl)}/${encodeKey(key)}`;
      if (!cloudfrontKeyPairId || !cloudfrontPrivateKey) return url;
      return getCloudFrontSignedUrl({
        url,
        keyPairId: cloudfrontKeyPairId,
        privateKey: cloudfrontPrivateKey,
        dateLessThan: new Date(expires * 1000),
      });
    }
    if (this.driver instanceof S3StorageDriver) {
      // Signing at the window start makes X-Amz-Date (and so the URL) repeatable too.
      return this.driver.presignDownload(key, {
        expiresInSeconds: expires - windowStart,
        signingDate: new Date(windowStart * 1000),
      });
    }
    if (this.localSigner) {
      const sig = this.localSigner.sign(key, expires);
      return `${trimSlash(this.options.publicBaseUrl)}/files/${encodeKey(key)}?expires=${expires}&sig=${sig}`;
    }
    throw new Error(`DeliveryUrlService cannot build URLs for storage driver "${this.driver.kind}"`);
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Keys are path-like: encode each segment, keep the slashes. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
