import { TOKEN_RECHECK_MS, VerifiedTokenMemo } from './verified-token.memo';

describe('VerifiedTokenMemo', () => {
  it('recalls a remembered token until its expiry, then says expired once and forgets it', async () => {
    const memo = new VerifiedTokenMemo();
    expect(memo.recall('t')).toBeUndefined();
    memo.remember('t', { id: 'user-1' }, Math.floor(Date.now() / 1000) + 60);
    expect(memo.recall('t')).toEqual({ id: 'user-1' });
    memo.remember('old', { id: 'user-2' }, Math.floor(Date.now() / 1000) - 1);
    expect(memo.recall('old')).toBe('expired');
    expect(memo.recall('old')).toBeUndefined();
  });

  it('verifies a token again after TOKEN_RECHECK_MS, and forgets the tokens of a deleted account', () => {
    const memo = new VerifiedTokenMemo();
    const now = 1_000_000;
    memo.remember('a', { id: 'user-1' }, undefined, now);
    memo.remember('b', { id: 'user-1' }, undefined, now);
    memo.remember('c', { id: 'user-2' }, undefined, now);
    expect(memo.recall('a', now + TOKEN_RECHECK_MS - 1)).toEqual({ id: 'user-1' });
    expect(memo.recall('a', now + TOKEN_RECHECK_MS)).toBeUndefined();
    memo.forgetUser('user-1');
    expect(memo.recall('b', now)).toBeUndefined();
    expect(memo.recall('c', now)).toEqual({ id: 'user-2' });
  });
});
