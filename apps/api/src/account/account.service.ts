import { Injectable } from '@nestjs/common';
import { NotFoundException, ValidationFailedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { PresetRepository, UserRepository } from '@pixmill/db';
import { MeDto } from './me.dto';

/** The `unlimited` plan's limits are MAX_SAFE_INTEGER inside; users see no limit as null. */
const limitOrNull = (limit: number): number | null => (limit >= Number.MAX_SAFE_INTEGER ? null : limit);

@Injectable()
export class AccountService {
  constructor(
    private readonly users: UserRepository,
    private readonly config: AppConfig,
    private readonly settings: PresetRepository,
  ) {}

  /** PATCH /v1/me: the account settings a user may change (today: `publicUrls`). */
  async update(userId: string, body: unknown): Promise<MeDto> {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const errors = Object.keys(b)
      .filter((k) => k !== 'publicUrls')
      .map((k) => ({ field: k, message: `property ${k} should not exist` }));
    if (b.publicUrls !== undefined && b.publicUrls !== 'any' && b.publicUrls !== 'presets-only') {
      errors.push({ field: 'publicUrls', message: 'publicUrls must be any or presets-only' });
    }
    if (errors.length) throw new ValidationFailedException(errors);
    if (b.publicUrls !== undefined) await this.settings.setPublicUrls(userId, b.publicUrls as 'any' | 'presets-only');
    return this.me(userId);
  }

  async me(userId: string): Promise<MeDto> {
    const u = await this.users.findById(userId);
    if (!u) throw new NotFoundException('Account');
    const plan = this.config.plans[u.plan];
    const today = new Date().toISOString().slice(0, 10);
    return {
      id: u.id,
      email: u.email,
      plan: u.plan,
      emailVerified: u.emailVerifiedAt !== null,
      role: u.role,
      createdAt: u.createdAt.toISOString(),
      publicUrls: u.publicUrls,
      usage: {
        storageBytes: u.storageBytes,
        storageQuotaBytes: limitOrNull(plan.storageBytes),
        transformsToday: u.transformsDay === today ? u.transformsToday : 0,
        dailyTransformQuota: limitOrNull(plan.dailyTransforms),
      },
    };
  }
}
