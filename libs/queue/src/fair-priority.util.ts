/** BullMQ's highest priority number (it keeps priority × 2³² plus a counter in a sorted-set score). */
export const MAX_QUEUE_PRIORITY = 2 ** 21 - 1;

/**
 * The BullMQ priority of a transform job in fair-scheduling round `fairSeq` (docs/decisions/008):
 * lower runs first, and jobs of one round run in the order they were added. Rounds past the
 * limit share its priority, so order there is first come, first served. The limit is a
 * backlog two million rounds deep; rounds start again low whenever no job waits and the
 * user submitting has none in flight.
 */
export function fairPriority(fairSeq: number): number {
  return Math.min(Math.max(Math.trunc(fairSeq), 1), MAX_QUEUE_PRIORITY);
}
