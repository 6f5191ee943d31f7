import { InvalidObjectKeyError } from './invalid-object-key.error';

const MAX_KEY_BYTES = 1024; // S3's limit

/**
 * One rule set for both drivers, so a key that works locally works on S3 and vice versa.
 * Keys come from storage-keys.util.ts, never from users; this is defence in depth against
 * path traversal in the local driver: no `..`, no backslash, no leading `/`, no NUL or other
 * control characters, no empty segments, and no segment starting with `.` (the local driver
 * keeps its temp files and metadata sidecars under such names).
 */
export function assertSafeKey(key: string): void {
  assertSafePath(key, 'key');
  if (key.endsWith('/')) throw new InvalidObjectKeyError(key, 'a key must not end with "/"');
}

/** Same rules for a prefix, which may end with "/" (and must not be empty: that would be the whole store). */
export function assertSafePrefix(prefix: string): void {
  assertSafePath(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, 'prefix', prefix);
}

function assertSafePath(path: string, what: string, original = path): void {
  const fail = (reason: string): never => {
    throw new InvalidObjectKeyError(original, reason);
  };
  if (typeof path !== 'string' || path.length === 0) fail(`a ${what} must not be empty`);
  if (Buffer.byteLength(path) > MAX_KEY_BYTES) fail(`a ${what} must be at most ${MAX_KEY_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) fail('control characters (NUL included) are not allowed');
  if (path.includes('\\')) fail('backslashes are not allowed');
  if (path.startsWith('/')) fail('a leading "/" is not allowed');
  if (path.includes('..')) fail('".." is not allowed');
  for (const segment of path.split('/')) {
    if (segment === '') fail('empty path segments are not allowed');
    if (segment.startsWith('.')) fail('segments must not start with "."');
  }
}
