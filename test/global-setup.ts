import { migrate } from '../libs/db/src/data-source.factory';

/**
 * Gives this jest run its own database (created from migrations) and queue
 * prefix. The run id reaches the test files and the worker processes they
 * spawn through the environment.
 */
export default async function globalSetup(): Promise<void> {
  process.env.PIXMILL_TEST_RUN_ID ??= `${process.pid}_${Date.now().toString(36)}`;
  const { TEST_DATABASE_URL } = await import('../libs/testing/src/test-env');
  await migrate(TEST_DATABASE_URL);
}
