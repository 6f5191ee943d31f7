import { API_KEY_RECHECK_MS, ApiKeyMemo } from './api-key.memo';

const caller = (userId: string, keyId: string) => ({ id: userId, apiKey: { id: keyId, scopes: ['images:read'] } });

describe('ApiKeyMemo', () => {
  it('recalls a key for API_KEY_RECHECK_MS, then asks for a read again', () => {
    const memo = new ApiKeyMemo();
    memo.remember('h1', caller('u1', 'k1'), 0);
    expect(memo.recall('h1', API_KEY_RECHECK_MS - 1)).toEqual(caller('u1', 'k1'));
    expect(memo.recall('h1', API_KEY_RECHECK_MS)).toBeUndefined();
    expect(memo.recall('h1', 0)).toBeUndefined();
  });

  it('forgets a deleted key, and every key of a deleted account', () => {
    const memo = new ApiKeyMemo();
    memo.remember('h1', caller('u1', 'k1'), 0);
    memo.remember('h2', caller('u1', 'k2'), 0);
    memo.remember('h3', caller('u2', 'k3'), 0);
    memo.forgetKey('k1');
    expect(memo.recall('h1', 0)).toBeUndefined();
    expect(memo.recall('h2', 0)).toBeDefined();
    memo.forgetUser('u1');
    expect(memo.recall('h2', 0)).toBeUndefined();
    expect(memo.recall('h3', 0)).toEqual(caller('u2', 'k3'));
  });
});
