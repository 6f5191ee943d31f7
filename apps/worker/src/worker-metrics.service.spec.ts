import { JobEngineMetrics } from '@pixmill/jobs';
import { MAX_OPS_LABEL_VALUES, WorkerMetrics } from './worker-metrics.service';

describe('WorkerMetrics', () => {
  const series = async (metrics: WorkerMetrics, name: string) =>
    (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));

  it('labels transform durations by ops and format; other jobs by name and outcome only; failures by job', async () => {
    const metrics = new WorkerMetrics(new JobEngineMetrics());
    metrics.observeJob('transform', 'completed', 0.2, { ops: 'resize+watermark', format: 'webp' });
    metrics.observeJob('thumbnail', 'failed', 0.1);
    const counts = await series(metrics, 'pixmill_job_duration_seconds_count');
    expect(counts).toEqual([
      'pixmill_job_duration_seconds_count{job="transform",outcome="completed",ops="resize+watermark",format="webp"} 1',
      'pixmill_job_duration_seconds_count{job="thumbnail",outcome="failed"} 1',
    ]);
    expect(await series(metrics, 'pixmill_job_failures_total')).toEqual(['pixmill_job_failures_total{job="thumbnail"} 1']);
  });

  it(`keeps at most ${MAX_OPS_LABEL_VALUES} ops values; later chains count as other, known ones keep their own`, async () => {
    const metrics = new WorkerMetrics(new JobEngineMetrics());
    for (let i = 0; i < MAX_OPS_LABEL_VALUES + 5; i++) metrics.observeJob('transform', 'completed', 0.1, { ops: `chain${i}`, format: 'png' });
    metrics.observeJob('transform', 'completed', 0.1, { ops: 'chain0', format: 'png' });
    const counts = await series(metrics, 'pixmill_job_duration_seconds_count');
    expect(counts).toHaveLength(MAX_OPS_LABEL_VALUES + 1);
    expect(counts).toContain('pixmill_job_duration_seconds_count{job="transform",outcome="completed",ops="other",format="png"} 5');
    expect(counts).toContain('pixmill_job_duration_seconds_count{job="transform",outcome="completed",ops="chain0",format="png"} 2');
  });
});
