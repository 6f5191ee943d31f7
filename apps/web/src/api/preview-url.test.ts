import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from './client';

const KEY = 'pmk_' + 'k'.repeat(43);
const IMAGE = '33333333-3333-4333-8333-333333333333';

/** An ApiClient signed in, against a fake API that counts the calls to /v1/url-keys. */
function signedIn() {
  const calls: string[] = [];
  vi.stubGlobal('fetch', async (url: string) => {
    calls.push(url);
    if (url.endsWith('/v1/url-keys')) return Response.json({ keys: [{ id: 'old', key: 'pmk_old', expiresAt: '2026-01-02T00:00:00Z' }, { id: 'k', key: KEY, expiresAt: null }] });
    if (url.endsWith('/v1/auth/login')) return Response.json({ user: {}, accessToken: 'a', refreshToken: 'r', expiresIn: 900 });
    return new Response(null, { status: 204 });
  });
  const store = new Map<string, string>();
  const client = new ApiClient('', { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) });
  return { client, calls };
}

afterEach(() => vi.unstubAllGlobals());

describe('preview URLs', () => {
  it('signs /i/ URLs with the current key, the same URL for the whole ten-minute window', async () => {
    const { client, calls } = signedIn();
    await client.login('a@example.com', 'pw');
    const t = Date.UTC(2026, 0, 1, 12, 3, 0);
    const url = await client.previewUrl(IMAGE, 'resize=300x&extend=10,20:ffffff&format=webp', t);
    const exp = Date.UTC(2026, 0, 1, 12, 20, 0) / 1000;
    const target = `/i/${IMAGE}?resize=300x&extend=10%2C20%3Affffff&format=webp&exp=${exp}`;
    // The signature of SPEC §8, recomputed here: HMAC-SHA256 keyed with the key string (decision 021).
    expect(url).toBe(`${target}&sig=${createHmac('sha256', KEY).update(target).digest('base64url')}`);
    expect(await client.previewUrl(IMAGE, 'resize=300x&extend=10,20:ffffff&format=webp', t + 6 * 60_000)).toBe(url);
    expect(calls.filter((c) => c.endsWith('/v1/url-keys'))).toHaveLength(1);
  });

  it('keeps the key in memory only and forgets it at logout', async () => {
    const { client, calls } = signedIn();
    await client.login('a@example.com', 'pw');
    await client.previewUrl(IMAGE, 'grayscale=true');
    expect(JSON.stringify(Object.values(sessionStorage))).not.toContain(KEY);
    await client.logout();
    await client.login('a@example.com', 'pw');
    await client.previewUrl(IMAGE, 'grayscale=true');
    expect(calls.filter((c) => c.endsWith('/v1/url-keys'))).toHaveLength(2);
  });
});
