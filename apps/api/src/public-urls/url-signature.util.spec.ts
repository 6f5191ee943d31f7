import { newUrlKey, signedUrl, signTarget, splitSignedTarget, URL_KEY_PATTERN, verifyTarget } from './url-signature.util';

// The vector of the README ("Public image URLs"): a fixed key, a target, its signature.
const KEY = 'pmk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc';
const TARGET = '/i/0b5e6f1c-8d3a-4f2e-9c71-2a4b6d8e0f13?resize=300x200&format=webp';
const SIG = 'k5fHqsxL52W-xRfvKesaz179oHOrZ8XSYRJUeacHwr0';

describe('public URL signatures', () => {
  it('signs the documented vector', () => {
    expect(signTarget(KEY, TARGET)).toBe(SIG);
    expect(signedUrl(KEY, TARGET)).toBe(`${TARGET}&sig=${SIG}`);
    expect(signedUrl(KEY, '/i/0b5e6f1c-8d3a-4f2e-9c71-2a4b6d8e0f13')).toBe('/i/0b5e6f1c-8d3a-4f2e-9c71-2a4b6d8e0f13?sig=ytLSQxN0zl7I-CtTDfz4SOnJuoHgrZAbhJpDFGoJQVQ');
  });

  it('makes keys of pmk_ and 43 base64url characters, each different', () => {
    const a = newUrlKey();
    expect(a).toMatch(URL_KEY_PATTERN);
    expect(a).toHaveLength(47);
    expect(newUrlKey()).not.toBe(a);
  });

  it('splits at the last &sig= or ?sig=, the signature being the last parameter', () => {
    expect(splitSignedTarget(`${TARGET}&sig=${SIG}`)).toEqual({ target: TARGET, signature: SIG });
    expect(splitSignedTarget(`/i/x?sig=${SIG}`)).toEqual({ target: '/i/x', signature: SIG });
    expect(splitSignedTarget(`/i/x?sig=${SIG}&resize=10x10`)).toBeNull(); // not last
    expect(splitSignedTarget('/i/x?resize=10x10')).toBeNull();
    expect(splitSignedTarget(`/i/x?a=1&sig=${SIG}=`)).toBeNull(); // padded
    expect(splitSignedTarget(`/i/x?a=1&sig=${SIG.slice(1)}`)).toBeNull();
  });

  it('verifies against any of the keys, and nothing that changed', () => {
    const other = newUrlKey();
    expect(verifyTarget([KEY], TARGET, SIG)).toBe(true);
    expect(verifyTarget([other, KEY], TARGET, SIG)).toBe(true);
    expect(verifyTarget([other], TARGET, SIG)).toBe(false);
    expect(verifyTarget([], TARGET, SIG)).toBe(false);
    expect(verifyTarget([KEY], TARGET.replace('300x200', '300x201'), SIG)).toBe(false);
    // Percent-encoding is signed as sent: an equivalent spelling is another target.
    expect(verifyTarget([KEY], TARGET.replace('x', '%78'), SIG)).toBe(false);
  });
});
