import { createHash, randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Random characters of a key after `pm_`: log2(62^40) ≈ 238 bits. */
const KEY_CHARS = 40;
const API_KEY_FORMAT = /^pm_[0-9A-Za-z]{40}$/;
/** What GET /v1/api-keys shows of a key: `pm_` and its first 8 characters. */
const PREFIX_LENGTH = 11;

/**
 * The stored form of an API key: SHA-256, unsalted. The key is 238 random bits, so no
 * dictionary or brute force applies, and a fast hash lets a request find its key by one
 * indexed lookup (docs/decisions/033).
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith('pm_');
}

export function isWellFormedApiKey(token: string): boolean {
  return API_KEY_FORMAT.test(token);
}

/** A new key (`pm_` + 40 base62 characters, uniform: bytes ≥ 248 are drawn again), its shown prefix and its hash. */
export function newApiKey(): { key: string; prefix: string; hash: string } {
  let chars = '';
  while (chars.length < KEY_CHARS) {
    for (const b of randomBytes(KEY_CHARS)) {
      if (b < 248 && chars.length < KEY_CHARS) chars += BASE62[b % 62];
    }
  }
  const key = `pm_${chars}`;
  return { key, prefix: key.slice(0, PREFIX_LENGTH), hash: hashApiKey(key) };
}
