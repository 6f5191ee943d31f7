import { Injectable, Module } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { AppConfig, ConfigModule, loadConfig } from '@pixmill/config';
import { JobEngineMetrics, JobLifecycle } from '@pixmill/jobs';
import { JobName } from '@pixmill/queue';
import { JobProcessor, Processes } from './job-processor.decorator';
import { ProcessorRegistryError, WorkerHost } from './worker-host.service';
import { WorkerMetrics } from './worker-metrics.service';

@Injectable()
@Processes(JobName.Ping)
class PingA implements JobProcessor<JobName.Ping> {
  async process() {
    return { message: 'a', workerPid: process.pid, handledAt: '' };
  }
}

@Injectable()
@Processes(JobName.Ping)
class PingB implements JobProcessor<JobName.Ping> {
  async process() {
    return { message: 'b', workerPid: process.pid, handledAt: '' };
  }
}

/** Boots just enough of the worker to run the processor registry check (no queues are started on failure). */
async function boot(processors: Array<new () => JobProcessor>): Promise<Error | undefined> {
  const config: AppConfig = loadConfig({ REDIS_URL: 'redis://127.0.0.1:1/0' });
  @Module({
    imports: [ConfigModule.forRoot(config), DiscoveryModule],
    providers: [WorkerMetrics, WorkerHost, { provide: JobLifecycle, useValue: {} }, JobEngineMetrics, ...processors],
  })
  class TestModule {}
  try {
    const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
    await app.close();
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

describe('WorkerHost processor registry', () => {
  it('refuses to boot when a job name has no processor', async () => {
    const err = await boot([PingA]);
    expect(err).toBeInstanceOf(ProcessorRegistryError);
    expect(err!.message).toContain(`no processor for job "${JobName.Transform}"`);
    expect(err!.message).toContain(`no processor for job "${JobName.Thumbnail}"`);
  });

  it('refuses to boot when a job name has two processors', async () => {
    const err = await boot([PingA, PingB]);
    expect(err).toBeInstanceOf(ProcessorRegistryError);
    expect(err!.message).toContain(`job "${JobName.Ping}" has 2 processors: PingA, PingB`);
  });
});
