import { AppConfig } from '@pixmill/config';
import { UrlKeyCipher } from './url-key.cipher';

const cipherWith = (secret: string) => new UrlKeyCipher({ jwt: { secret } } as AppConfig);

describe('UrlKeyCipher', () => {
  const key = 'pmk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc';
  const a = cipherWith('a-long-enough-secret-for-the-tests');

  it('round-trips a key, and never stores it in the clear', () => {
    const stored = a.encrypt('user-1', key);
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(key.slice(4));
    expect(a.encrypt('user-1', key)).not.toBe(stored); // a fresh IV each time
    expect(a.decrypt('user-1', stored)).toBe(key);
  });

  it('does not decrypt for another account, another secret, or a tampered text', () => {
    const stored = a.encrypt('user-1', key);
    expect(a.decrypt('user-2', stored)).toBeNull();
    expect(cipherWith('another-secret-of-another-deployment').decrypt('user-1', stored)).toBeNull();
    const raw = Buffer.from(stored.slice(3), 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(a.decrypt('user-1', `v1.${raw.toString('base64url')}`)).toBeNull();
    expect(a.decrypt('user-1', 'plain')).toBeNull();
  });
});
