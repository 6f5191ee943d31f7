import { Injectable } from '@nestjs/common';
import { DomainException, NotFoundException } from '@pixmill/common';
import { ApiKeyRepository, ApiKeyRow, MAX_API_KEYS_PER_USER } from '@pixmill/db';
import { ApiKeyMemo } from '../auth/api-key.memo';
import { newApiKey } from '../auth/api-key.util';
import { ApiKeyDto, CreatedApiKeyDto } from './api-key.dto';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly memo: ApiKeyMemo,
  ) {}

  static toDto(k: ApiKeyRow): ApiKeyDto {
    return {
      id: k.id,
      prefix: k.prefix,
      name: k.name,
      scopes: k.scopes,
      createdAt: new Date(k.createdAt).toISOString(),
      lastUsedAt: k.lastUsedAt ? new Date(k.lastUsedAt).toISOString() : null,
    };
  }

  /** A new key; the answer is the only place the key ever appears. */
  async create(userId: string, name: string, scopes: string[]): Promise<CreatedApiKeyDto> {
    const { key, prefix, hash } = newApiKey();
    const row = await this.keys.insert({ userId, name: name.trim(), prefix, keyHash: hash, scopes });
    if (!row) throw new DomainException('conflict', `An account holds at most ${MAX_API_KEYS_PER_USER} API keys; delete one first.`);
    return { ...ApiKeysService.toDto(row), key };
  }

  async list(userId: string): Promise<ApiKeyDto[]> {
    return (await this.keys.list(userId)).map((k) => ApiKeysService.toDto(k));
  }

  /** Deletes the key; this process stops accepting it at once, the others within a minute (ApiKeyMemo). */
  async delete(userId: string, id: string): Promise<void> {
    if (!(await this.keys.delete(userId, id))) throw new NotFoundException('API key');
    this.memo.forgetKey(id);
  }
}
