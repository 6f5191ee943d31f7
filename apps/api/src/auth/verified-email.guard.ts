import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { EmailNotVerifiedException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { UserRepository } from '@pixmill/db';
import type { AuthUser } from '../common/current-user.decorator';
import { VERIFIED_EMAIL_REQUIRED } from '../common/verified-email.decorator';

/** Accounts seen verified; past this many the set starts over (a bound on memory). */
const VERIFIED_MAX_ENTRIES = 100_000;

/**
 * Global guard, after the JWT guard: with REQUIRE_VERIFIED_EMAIL on, a route marked
 * @VerifiedEmailRequired() answers 403 `email_not_verified` to an unverified account.
 * Verification never goes back, so an account seen verified is not read again; an
 * unverified one is read on each such request (one indexed lookup) until it verifies.
 */
@Injectable()
export class VerifiedEmailGuard implements CanActivate {
  private readonly verified = new Set<string>();

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly users: UserRepository,
  ) {}

  /** The account was deleted: its id is not vouched for any more. */
  forget(userId: string): void {
    this.verified.delete(userId);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (!this.config.accounts.requireVerifiedEmail) return true;
    if (!this.reflector.getAllAndOverride<boolean>(VERIFIED_EMAIL_REQUIRED, [ctx.getHandler(), ctx.getClass()])) return true;
    const user = ctx.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user) return true; // a public route: nobody to check
    if (this.verified.has(user.id)) return true;
    if ((await this.users.isEmailVerified(user.id)) !== true) throw new EmailNotVerifiedException();
    if (this.verified.size >= VERIFIED_MAX_ENTRIES) this.verified.clear();
    this.verified.add(user.id);
    return true;
  }
}
