/** The first wait of a webhook delivery found over its user's cap. */
const FIRST_DELAY_MS = 1000;

/**
 * How long a webhook delivery over its user's cap (WEBHOOK_MAX_IN_FLIGHT_PER_USER) waits
 * before it is looked at again: 1 s, doubling each time it finds the cap still full, up to
 * WEBHOOK_TIMEOUT_MS (by then one of the user's places has freed, even if every attempt
 * hangs), plus up to half as much again at random so the user's waiting deliveries spread
 * out. A long backlog for a dead receiver then costs one look per delivery every
 * WEBHOOK_TIMEOUT_MS or so, not one a second; behind a receiver that answers, places free
 * within milliseconds and the first waits are short.
 *
 * `timesOverCap`: how often this delivery was found over the cap before, this time excluded.
 */
export function overCapDelayMs(timesOverCap: number, timeoutMs: number, random = Math.random()): number {
  const base = Math.min(FIRST_DELAY_MS * 2 ** Math.min(timesOverCap, 30), Math.max(timeoutMs, FIRST_DELAY_MS));
  return Math.round(base * (1 + random / 2));
}
