import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedException, UnavailableException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import type { AuthUser } from '../common/current-user.decorator';
import { RateLimitDecision, SlidingWindowRateLimiter } from './sliding-window-rate-limiter.service';

/**
 * Global guard, registered after the JWT guard so `request.user` is known (SPEC §6):
 * `/v1/auth/*` is limited per client IP (AUTH_RATE_LIMIT_PER_MINUTE), every other
 * `/v1/*` route per user (RATE_LIMIT_PER_MINUTE). Health, files, metrics and the
 * OpenAPI document are not limited. When Redis is down, limited routes answer 503
 * rather than going unlimited (docs/decisions/006-rate-limits-when-redis-is-down.md).
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly limiter: SlidingWindowRateLimiter,
    private readonly config: AppConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const bucket = this.bucketOf(req);
    if (!bucket) return true;

    let decision: RateLimitDecision;
    try {
      // A user's requests take slots a few at a time (decision 048); the auth routes' per-IP buckets stay exact.
      decision = bucket.leased ? await this.limiter.hitLeased(bucket.key, bucket.limit) : await this.limiter.hit(bucket.key, bucket.limit);
    } catch {
      throw new UnavailableException('Rate limiting is unavailable (Redis does not answer); try again shortly.');
    }
    const headers = {
      'RateLimit-Limit': String(decision.limit),
      'RateLimit-Remaining': String(decision.remaining),
      'RateLimit-Reset': String(decision.resetSeconds),
    };
    if (!decision.allowed) throw new RateLimitedException(decision.resetSeconds, headers);
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    for (const [k, v] of Object.entries(headers)) void reply.header(k, v);
    return true;
  }

  private bucketOf(req: FastifyRequest & { user?: AuthUser }): { key: string; limit: number; leased?: boolean } | null {
    const path = req.url.split('?')[0];
    if (!path.startsWith('/v1/')) return null;
    // req.ip is the socket's peer, or the client named in X-Forwarded-For when that peer is a
    // proxy listed in TRUST_PROXY (decision 006).
    if (path.startsWith('/v1/auth/')) return { key: `auth-ip:${req.ip}`, limit: this.config.limits.authRateLimitPerMinute };
    if (req.user?.id) return { key: `user:${req.user.id}`, limit: this.config.limits.rateLimitPerMinute, leased: true };
    // A public /v1 route outside auth (none today) is limited per IP at the per-user rate.
    return { key: `ip:${req.ip}`, limit: this.config.limits.rateLimitPerMinute };
  }
}
