import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JobEngineMetrics } from '@pixmill/jobs';

/**
 * Distinct `ops` values one worker labels before it counts further chains as `other`. The
 * chains are whatever clients ask for (up to 10 of the 12 operations, in any order), so without a cap
 * one client could mint a series per permutation.
 */
export const MAX_OPS_LABEL_VALUES = 50;

/** Prometheus metrics of one worker process, served on its private port. */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly jobDuration = new Histogram({
    name: 'pixmill_job_duration_seconds',
    help:
      'Time spent processing a job, by job name and outcome; transform jobs also by ops (their operation names in order, ' +
      "each once, joined with '+', or none) and output format.",
    labelNames: ['job', 'outcome', 'ops', 'format'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly jobFailures = new Counter({
    name: 'pixmill_job_failures_total',
    help: 'Job attempts that failed, by job name. A webhook receiver that does not take a message is counted in pixmill_webhook_attempts_total only.',
    labelNames: ['job'],
    registers: [this.registry],
  });
  private readonly opsSeen = new Set<string>();

  constructor(engine: JobEngineMetrics) {
    collectDefaultMetrics({ register: this.registry, prefix: 'pixmill_worker_' });
    engine.registerIn(this.registry);
  }

  /**
   * One finished run of a job; `labels` only for transform jobs (a job that ended before its row was read has none).
   * `delayed`: the processor put the job back for later without running it (a webhook delivery over its user's cap).
   */
  observeJob(job: string, outcome: 'completed' | 'failed' | 'delayed', seconds: number, labels: { ops?: string; format?: string } = {}): void {
    const extra = labels.ops !== undefined && labels.format !== undefined ? { ops: this.boundedOps(labels.ops), format: labels.format } : {};
    this.jobDuration.observe({ job, outcome, ...extra }, seconds);
    if (outcome === 'failed') this.jobFailures.inc({ job });
  }

  private boundedOps(ops: string): string {
    if (this.opsSeen.has(ops)) return ops;
    if (this.opsSeen.size >= MAX_OPS_LABEL_VALUES) return 'other';
    this.opsSeen.add(ops);
    return ops;
  }
}
