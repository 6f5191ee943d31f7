import { Injectable } from '@nestjs/common';
import { DailyQuotaExceededException, NotFoundException } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { UserRepository } from '@pixmill/db';

/** Seconds from `now` to the next midnight UTC, when the daily quota starts over. */
export function secondsUntilUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(Math.ceil((midnight - now.getTime()) / 1000), 1);
}

/**
 * The daily transform quota of SPEC §6: one unit per new render a user asks for, per
 * UTC day, limit by plan. Cache hits, idempotent replays, requests that join a
 * render already in flight and jobs canceled before they ran cost nothing; the system's own renders (upload thumbnails)
 * never come through here.
 */
@Injectable()
export class DailyQuotaService {
  constructor(
    private readonly users: UserRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * Takes a unit, then runs `insert` (which creates the job row, or returns null when a
   * job for the same render already exists) and gives the unit back unless a row was
   * made. Taking first keeps the limit exact under parallel requests. When the quota is
   * used up, a request that would only join an existing render (`joinsExisting`) passes
   * with null; anything else is refused with 429 `daily_quota_exceeded`.
   */
  async chargeNewRender<T>(userId: string, insert: () => Promise<T | null>, joinsExisting: () => Promise<boolean>): Promise<T | null> {
    const limits = Object.fromEntries(Object.entries(this.config.plans).map(([plan, l]) => [plan, l.dailyTransforms]));
    const taken = await this.users.consumeDailyTransform(userId, limits);
    if (taken === null) throw new NotFoundException('Account');
    if (!taken) {
      if (await joinsExisting()) return null;
      throw new DailyQuotaExceededException(secondsUntilUtcMidnight());
    }
    let row: T | null;
    try {
      row = await insert();
    } catch (err) {
      await this.users.refundDailyTransform(userId).catch(() => undefined);
      throw err;
    }
    if (!row) await this.users.refundDailyTransform(userId);
    return row;
  }

  /** A job canceled before it rendered gives its unit back (to the day it was taken on). */
  async refundCanceled(userId: string, takenAt: Date): Promise<void> {
    await this.users.refundDailyTransform(userId, new Date(takenAt));
  }
}
