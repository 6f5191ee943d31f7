import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signs the local driver's file URLs (`/files/{key}?expires=…&sig=…`), which stand in for a
 * CDN with the local driver: sig = hex HMAC-SHA256(secret, key + "\n" + expires), expires in
 * unix seconds. The API's file route calls verify() before streaming the object.
 */
export class LocalUrlSigner {
  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {
    if (!secret) throw new Error('LocalUrlSigner needs a non-empty secret');
  }

  /** The signature for key valid until expiresAt (a Date or unix seconds). */
  sign(key: string, expiresAt: Date | number): string {
    const expires = typeof expiresAt === 'number' ? expiresAt : Math.floor(expiresAt.getTime() / 1000);
    return this.hmac(key, String(expires));
  }

  /** False when the signature does not match, is malformed, or has expired. `expires` as it came in the query. */
  verify(key: string, expires: string | number | undefined, sig: string | undefined): boolean {
    const expiresText = String(expires ?? '');
    if (!/^\d{1,12}$/.test(expiresText) || typeof sig !== 'string' || !/^[0-9a-f]{64}$/i.test(sig)) return false;
    if (Number(expiresText) * 1000 <= this.now()) return false;
    const expected = Buffer.from(this.hmac(key, expiresText), 'hex');
    return timingSafeEqual(expected, Buffer.from(sig, 'hex'));
  }

  private hmac(key: string, expires: string): string {
    return createHmac('sha256', this.secret).update(`${key}\n${expires}`).digest('hex');
  }
}
