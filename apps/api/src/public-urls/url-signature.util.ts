import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A signing key: `pmk_` and 43 base64url characters (32 random bytes), SPEC §8. */
export const URL_KEY_PATTERN = /^pmk_[A-Za-z0-9_-]{43}$/;
/** A signature: base64url without padding of an HMAC-SHA256 (32 bytes). */
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newUrlKey(): string {
  return `pmk_${randomBytes(32).toString('base64url')}`;
}

/**
 * The signature of a request target (path and query as sent, without `&sig=…`):
 * base64url, unpadded, of HMAC-SHA256 keyed with the whole key text (`pmk_…`, UTF-8).
 */
export function signTarget(key: string, target: string): string {
  return createHmac('sha256', key).update(target, 'utf8').digest('base64url');
}

/** `target` with its signature appended as the last parameter. */
export function signedUrl(key: string, target: string): string {
  return `${target}${target.includes('?') ? '&' : '?'}sig=${signTarget(key, target)}`;
}

/**
 * Splits a request target as sent into what was signed and the signature: everything
 * before the last `&sig=` or `?sig=`, and what follows it. null when there is no
 * signature, or it is not the last parameter, or it is not 43 base64url characters.
 */
export function splitSignedTarget(raw: string): { target: string; signature: string } | null {
  const at = Math.max(raw.lastIndexOf('&sig='), raw.lastIndexOf('?sig='));
  if (at < 0) return null;
  const signature = raw.slice(at + 5);
  if (!SIGNATURE_PATTERN.test(signature)) return null;
  return { target: raw.slice(0, at), signature };
}

/** Whether any of `keys` made `signature` over `target`; every key is compared in constant time. */
export function verifyTarget(keys: readonly string[], target: string, signature: string): boolean {
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== 32) return false;
  let ok = false;
  for (const key of keys) {
    const expected = createHmac('sha256', key).update(target, 'utf8').digest();
    if (timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}
