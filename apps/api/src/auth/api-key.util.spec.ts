import { hashApiKey, isWellFormedApiKey, newApiKey } from './api-key.util';

describe('API key format', () => {
  it('is pm_ and 40 base62 characters, shown by its first 11, stored as its SHA-256', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { key, prefix, hash } = newApiKey();
      expect(key).toMatch(/^pm_[0-9A-Za-z]{40}$/);
      expect(isWellFormedApiKey(key)).toBe(true);
      expect(key.startsWith(prefix)).toBe(true);
      expect(prefix).toHaveLength(11);
      expect(hash).toBe(hashApiKey(key));
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      seen.add(key);
    }
    expect(seen.size).toBe(200);
    expect(isWellFormedApiKey('pm_short')).toBe(false);
  });
});
