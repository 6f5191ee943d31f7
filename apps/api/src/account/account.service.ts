import { Injectable } from '@nestjs/common';
import { NotFoundException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { UserRepository } from '@pixmill/db';
import { MeDto } from './me.dto';

/** The `unlimited` plan's limits are MAX_SAFE_INTEGER inside; users see no limit as null. */
const limitOrNull = (limit: number): number | null => (limit >= Number.MAX_SAFE_INTEGER ? null : limit);

@Injectable()
export class AccountService {
  constructor(
    private readonly users: UserRepository,
    private readonly config: AppConfig,
  ) {}

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
      createdAt: u.createdAt.toISOString(),
      usage: {
        storageBytes: u.storageBytes,
        storageQuotaBytes: limitOrNull(plan.storageBytes),
        transformsToday: u.transformsDay === today ? u.transformsToday : 0,
        dailyTransformQuota: limitOrNull(plan.dailyTransforms),
      },
    };
  }
}
