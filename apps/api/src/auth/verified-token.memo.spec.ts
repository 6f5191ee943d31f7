import { VerifiedTokenMemo } from './verified-token.memo';

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
});
