import IORedis from 'ioredis';
import { Client } from 'pg';
import { deleteKeysMatching } from '../libs/testing/src/redis-keys.util';

/** Drops this run's database, its queue keys, and its rate-limit and read-cache keys (the prefix without braces). */
export default async function globalTeardown(): Promise<void> {
  const { TEST_DATABASE_URL, TEST_REDIS_URL, TEST_QUEUE_PREFIX } = await import('../libs/testing/src/test-env');
  const name = new URL(TEST_DATABASE_URL).pathname.slice(1);
  if (!/^pixmill_test_/.test(name)) return;
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();

  const redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  await deleteKeysMatching(redis, `${TEST_QUEUE_PREFIX}:*`);
  await deleteKeysMatching(redis, `${TEST_QUEUE_PREFIX.replace(/[{}]/g, '')}:*`);
  redis.disconnect();
}
