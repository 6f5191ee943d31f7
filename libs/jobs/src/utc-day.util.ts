/** Seconds from `now` to the next midnight UTC, when the daily quota starts over. */
export function secondsUntilUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(Math.ceil((midnight - now.getTime()) / 1000), 1);
}
