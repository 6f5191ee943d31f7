import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsoleSession } from './session';

const KEY = 'pmk_' + 'k'.repeat(43);
const IMAGE = '33333333-3333-4333-8333-333333333333';

/** A console session against a fake API that counts the calls to /v1/url-keys. */
function signedIn() {
  const calls: string[] = [];
  const fetch = async (request: Request) => {
    const url = request.url;
    calls.push(url);
    if (url.endsWith('/v1/url-keys')) return Response.json({ keys: [{ id: 'old', key: 'pmk_old', expiresAt: '2026-01-02T00:00:00Z' }, { id: 'k', key: KEY, expiresAt: null }] });
    if (url.endsWith('/v1/auth/login')) return Response.json({ user: {}, accessToken: 'a', refreshToken: 'r', expiresIn: 900 });
    if (url.endsWith('/v1/me')) return Response.json({ id: 'u', authorization: request.headers.get('authorization') });
    if (url.endsWith('/v1/auth/refresh')) return Response.json({ user: {}, accessToken: 'a2', refreshToken: 'r2', expiresIn: 900 });
    return new Response(null, { status: 204 });
  };
  const store = new Map<string, string>();
  const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => void store.delete(k) };
  const client = new ConsoleSession('http://console.test', storage, fetch as typeof globalThis.fetch);
  return { client, calls, store, storage, fetch };
}

afterEach(() => vi.restoreAllMocks());

describe('console session on the SDK', () => {
  it('keeps the refresh token in sessionStorage, resumes from it after a reload (rotating it), and logout forgets both', async () => {
    const { client, store, storage, fetch } = signedIn();
    const changes: boolean[] = [];
    client.onSessionChange((s) => changes.push(s));
    await client.login('a@example.com', 'pw');
    expect([client.hasSession, store.get('pixmill.refresh')]).toEqual([true, 'r']);
    // A reload: a new page with the same tab's storage and no access token; the first call refreshes.
    const reloaded = new ConsoleSession('http://console.test', storage, fetch as typeof globalThis.fetch);
    expect(reloaded.hasSession).toBe(true);
    expect(await reloaded.sdk.me()).toMatchObject({ authorization: 'Bearer a2' });
    expect([reloaded.sdk.currentTokens?.accessToken, store.get('pixmill.refresh')]).toEqual(['a2', 'r2']);
    await reloaded.logout();
    expect([reloaded.hasSession, store.has('pixmill.refresh')]).toEqual([false, false]);
    expect(changes).toEqual([true]);
  });
});

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
    const { client, calls, store } = signedIn();
    await client.login('a@example.com', 'pw');
    await client.previewUrl(IMAGE, 'grayscale=true');
    expect([...store.values()]).toEqual(['r']);
    await client.logout();
    await client.login('a@example.com', 'pw');
    await client.previewUrl(IMAGE, 'grayscale=true');
    expect(calls.filter((c) => c.endsWith('/v1/url-keys'))).toHaveLength(2);
  });
});
