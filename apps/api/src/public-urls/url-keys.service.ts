import { Injectable } from '@nestjs/common';
import { UrlKeyRepository, UrlKeyRow } from '@pixmill/db';
import { UrlKeyDto } from './url-key.dto';
import { UrlKeyCipher } from './url-key.cipher';
import { newUrlKey } from './url-signature.util';

/** A decrypted key that still signs. */
export interface UrlKey {
  id: string;
  key: string;
  createdAt: Date;
  expiresAt: Date | null;
}

/** An account's signing keys of public image URLs (SPEC §8). */
@Injectable()
export class UrlKeysService {
  constructor(
    private readonly rows: UrlKeyRepository,
    private readonly cipher: UrlKeyCipher,
  ) {}

  /** The keys that sign for the account (read cache; no key is made here). */
  async validKeys(userId: string): Promise<UrlKey[]> {
    return this.decrypt(userId, await this.rows.listValid(userId));
  }

  /** The account's keys, newest first; the first key is made on first use. */
  async list(userId: string): Promise<UrlKeyDto[]> {
    let keys = await this.validKeys(userId);
    if (!keys.some((k) => k.expiresAt === null)) {
      await this.rows.rotate(userId, this.cipher.encrypt(userId, newUrlKey()), { onlyIfNone: true });
      keys = await this.validKeys(userId);
    }
    return keys.map(toDto);
  }

  /** A new current key; the replaced one signs for 24 h more. */
  async rotate(userId: string): Promise<UrlKeyDto> {
    const key = newUrlKey();
    const row = await this.rows.rotate(userId, this.cipher.encrypt(userId, key));
    return toDto({ ...row!, key });
  }

  /** The current key, made on first use (signs the URLs the API hands out). */
  async currentKey(userId: string): Promise<string> {
    await this.list(userId);
    const current = (await this.validKeys(userId)).find((k) => k.expiresAt === null);
    return current!.key;
  }

  private decrypt(userId: string, rows: UrlKeyRow[]): UrlKey[] {
    const keys: UrlKey[] = [];
    for (const r of rows) {
      const key = this.cipher.decrypt(userId, r.keyCiphertext);
      if (key !== null) keys.push({ id: r.id, key, createdAt: r.createdAt, expiresAt: r.expiresAt });
    }
    return keys;
  }
}

function toDto(k: UrlKey): UrlKeyDto {
  return { id: k.id, key: k.key, createdAt: k.createdAt.toISOString(), expiresAt: k.expiresAt ? k.expiresAt.toISOString() : null };
}
