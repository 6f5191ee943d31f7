import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimitGuard } from './rate-limit.guard';
import { SlidingWindowRateLimiter } from './sliding-window-rate-limiter.service';

/**
 * Per-user and per-IP request limits. Import it after AuthModule: APP_GUARDs run in
 * registration order, and the rate-limit guard needs the user the JWT guard sets.
 */
@Module({
  providers: [SlidingWindowRateLimiter, { provide: APP_GUARD, useClass: RateLimitGuard }],
  exports: [SlidingWindowRateLimiter],
})
export class RateLimitModule {}
