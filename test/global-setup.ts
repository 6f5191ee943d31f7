import IORedis from 'ioredis';
import { Client } from 'pg';
import { migrate } from '../libs/db/src/data-source.factory';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../libs/testing/src/test-env';

/** Recreates the test database from migrations and empties the test Redis database. */
export default async function globalSetup(): Promise<void> {
  const url = new URL(TEST_DATABASE_URL);
  const name = url.pathname.slice(1);
  if (!/_test$/.test(name)) throw new Error(`refusing to reset ${name}: test databases end in _test`);
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
  await migrate(TEST_DATABASE_URL);

  const redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  await redis.flushdb();
  redis.disconnect();
}
