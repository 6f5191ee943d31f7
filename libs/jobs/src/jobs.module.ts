import { Global, Module } from '@nestjs/common';
import { JobEngineMetrics } from './job-engine.metrics';
import { JobFinalWatcher } from './job-final.watcher';
import { JobLifecycle } from './job-lifecycle.service';

/** The job lifecycle and what it needs beyond DbModule, RedisModule and EventsModule. */
@Global()
@Module({
  providers: [JobLifecycle, JobEngineMetrics, JobFinalWatcher],
  exports: [JobLifecycle, JobEngineMetrics, JobFinalWatcher],
})
export class JobsModule {}
