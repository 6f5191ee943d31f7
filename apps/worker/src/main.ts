import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { exitGracefullyOn, PinoLoggerService } from '@pixmill/common';
import { loadConfigOrExit } from '@pixmill/config';
import { configureSharp } from '@pixmill/imaging';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = new PinoLoggerService(config.logLevel, { app: 'pixmill-worker' });
  configureSharp({ concurrency: config.worker.sharpConcurrency, cacheMemoryMb: config.worker.sharpCacheMb });
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger });
  // SIGTERM/SIGINT: workers stop taking jobs and finish the ones in hand, then connections close.
  exitGracefullyOn(() => app.close(), (msg) => logger.log(msg, 'Worker'));
  logger.log(`Pixmill worker ${process.pid} started`, 'Worker');
}

main().catch((err) => {
  process.stderr.write(`pixmill-worker failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
