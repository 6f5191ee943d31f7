import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';

/** What a job-engine failure that was tolerated is about (the `action` label). */
export type ToleratedAction = 'enqueue' | 'remove' | 'progress' | 'hand_back' | 'announce';

/**
 * Metrics of the job lifecycle, registered in the process's own registry (API or worker)
 * by whoever serves /metrics.
 */
@Injectable()
export class JobEngineMetrics {
  /** Queue operations that failed after their transition committed: the reconciler repairs them from the rows. */
  readonly afterCommitFailures = new Counter({
    name: 'pixmill_job_after_commit_failures_total',
    help:
      'Queue operations (enqueue, remove, progress, hand back) that failed after the job transition they follow had ' +
      'committed, by action and code. The row is the truth; the reconciler repairs the queue from it.',
    labelNames: ['action', 'code'],
    registers: [],
  });
  /** Transitions, by name and whether this call made the change. */
  readonly transitions = new Counter({
    name: 'pixmill_job_transitions_total',
    help: 'Job state transitions attempted, by transition and outcome (applied: this call changed the row; noop: the row was already past it).',
    labelNames: ['transition', 'outcome'],
    registers: [],
  });

  registerIn(registry: Registry): void {
    registry.registerMetric(this.afterCommitFailures);
    registry.registerMetric(this.transitions);
  }
}
