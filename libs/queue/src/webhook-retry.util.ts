/**
 * Seconds to wait after `attemptsMade` attempts of a webhook delivery: the entry of
 * WEBHOOK_RETRY_SCHEDULE for the next attempt (the first entry is the first attempt's
 * own delay; the queue's producer applies it).
 */
export function webhookRetryDelaySeconds(schedule: number[], attemptsMade: number): number {
  return schedule[Math.min(attemptsMade, schedule.length - 1)] ?? 0;
}
