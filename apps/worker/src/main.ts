// First: tracing (when on) must be in place before the modules it instruments load.
import { tracing } from './tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { exitGracefullyOn, PinoLoggerService } from '@pixmill/common';
import { loadConfigOrExit } from '@pixmill/config';
import { configureSharp } from '@pixmill/imaging';
import { WorkerHost } from './worker-host.service';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // Written synchronously: a worker logs a few lines per job, not per request, and a log line
  // written through the libuv threadpool (pino's default) could wait behind renders there, or
  // be lost when the worker ends itself with SIGKILL after its grace period.
  const logger = new PinoLoggerService(config.logLevel, { app: 'pixmill-worker' }, { sync: true });
  configureSharp({ concurrency: config.worker.sharpConcurrency, cacheMemoryMb: config.worker.sharpCacheMb });
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger });
  // SIGTERM/SIGINT: workers stop taking jobs and finish the ones in hand, then connections close.
  // Past WORKER_SHUTDOWN_TIMEOUT_MS the jobs still in hand go back to their queues for another worker.
  const host = app.get(WorkerHost);
  exitGracefullyOn(() => app.close().then(() => tracing?.shutdown()), (msg) => logger.log(msg, 'Worker'), {
    timeoutMs: config.worker.shutdownTimeoutMs,
    handBack: () => host.handBack(),
  });
  if (tracing) logger.log(`tracing: spans go to ${tracing.endpoint}`, 'Worker');
  logger.log(`Pixmill worker ${process.pid} started`, 'Worker');
}

main().catch((err) => {
  process.stderr.write(`pixmill-worker failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
