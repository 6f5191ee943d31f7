import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@pixmill/config';
import { WorkerModule } from '../../../apps/worker/src/worker.module';
import { testConfig } from './test-config';

export interface RunningWorker {
  app: INestApplicationContext;
  config: AppConfig;
  close(): Promise<void>;
}

/**
 * Boots the real worker in-process against the test PostgreSQL and Redis, for tests that
 * call its services directly (the reconciler's pass); startWorkerProcess runs it as its
 * own OS process, for tests that kill it.
 */
export async function startWorker(overrides: Record<string, string> = {}): Promise<RunningWorker> {
  const config = testConfig(overrides);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger: false });
  return { app, config, close: () => app.close() };
}
