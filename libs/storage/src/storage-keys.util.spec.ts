import { assertSafeKey } from './object-key.util';
import { derivativeKey, imagePrefix, originalKey, uploadKey } from './storage-keys.util';

describe('storage keys', () => {
  it('follow SPEC §1', () => {
    expect(originalKey('u1', 'i1')).toBe('users/u1/images/i1/original');
    expect(derivativeKey('u1', 'i1', 'abc', 'webp')).toBe('users/u1/images/i1/derivatives/abc.webp');
    expect(imagePrefix('u1', 'i1')).toBe('users/u1/images/i1/');
    expect(uploadKey('u1', 'up1')).toBe('users/u1/uploads/up1');
    expect(originalKey('u1', 'i1').startsWith(imagePrefix('u1', 'i1'))).toBe(true);
    expect(derivativeKey('u1', 'i1', 'abc', 'webp').startsWith(imagePrefix('u1', 'i1'))).toBe(true);
  });

  it('are all safe keys', () => {
    const id = '0b7a3f7e-8d0c-4c5e-9a63-2f0c1d2e3f40';
    for (const key of [originalKey(id, id), derivativeKey(id, id, 'f'.repeat(64), 'avif'), uploadKey(id, id)]) {
      expect(() => assertSafeKey(key)).not.toThrow();
    }
  });
});
