import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AppConfig } from '@pixmill/config';

const VERSION = 'v1';
const INFO = 'pixmill url signing keys v1';

/**
 * Encrypts URL signing keys at rest (docs/decisions/017): AES-256-GCM with a key derived
 * by HKDF-SHA256 from JWT_SECRET. A key must be read back to check an HMAC, so it cannot
 * be hashed. Stored as `v1.` + base64url(iv ‖ tag ‖ ciphertext); the row's user id is the
 * associated data, so a ciphertext copied to another account does not decrypt.
 */
@Injectable()
export class UrlKeyCipher {
  private readonly key: Buffer;

  constructor(config: AppConfig) {
    this.key = Buffer.from(hkdfSync('sha256', config.jwt.secret, 'pixmill', INFO, 32));
  }

  encrypt(userId: string, plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(userId));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The key, or null when the ciphertext is not one of ours (another secret, another account). */
  decrypt(userId: string, stored: string): string | null {
    if (!stored.startsWith(`${VERSION}.`)) return null;
    const raw = Buffer.from(stored.slice(VERSION.length + 1), 'base64url');
    if (raw.length < 29) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(userId));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
