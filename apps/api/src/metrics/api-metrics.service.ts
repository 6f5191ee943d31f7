import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { JobEngineMetrics } from '@pixmill/jobs';
import { JobQueue, QueueName } from '@pixmill/queue';

/** Prometheus metrics of one API process. */
@Injectable()
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'pixmill_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor(jobs: JobQueue, engine: JobEngineMetrics) {
    collectDefaultMetrics({ register: this.registry, prefix: 'pixmill_api_' });
    new Gauge({
      name: 'pixmill_queue_jobs',
      help: 'Jobs in each queue by state (read from Redis at scrape time).',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        for (const queue of Object.values(QueueName)) {
          try {
            const counts = await jobs.queue(queue).getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
            for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
          } catch {
            // Redis down: the gauge keeps its last values; /health/ready reports the outage.
          }
        }
      },
    });
    engine.registerIn(this.registry);
  }
}
