import { Inject, Injectable } from '@nestjs/common';
import type IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS } from '@pixmill/queue';
import { StorageDriver } from '@pixmill/storage';

export type CheckState = 'up' | 'down';
export type ReadinessChecks = Record<'postgres' | 'redis' | 'storage', CheckState>;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

/** Readiness of the dependencies the API and the worker cannot work without: one check for both. */
@Injectable()
export class HealthService {
  constructor(
    private readonly ds: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    private readonly storage: StorageDriver,
  ) {}

  async check(timeoutMs = 2000): Promise<ReadinessChecks> {
    const checks: Array<[keyof ReadinessChecks, () => Promise<unknown>]> = [
      ['postgres', () => this.ds.query('SELECT 1')],
      ['redis', () => this.redis.ping()],
      ['storage', () => this.storage.checkReady()],
    ];
    const results = await Promise.all(
      checks.map(async ([name, fn]) => {
        try {
          await withTimeout(fn(), timeoutMs);
          return [name, 'up'] as const;
        } catch {
          return [name, 'down'] as const;
        }
      }),
    );
    return Object.fromEntries(results) as ReadinessChecks;
  }
}
