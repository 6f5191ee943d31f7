/**
 * Where the tests' own services live. One dedicated PostgreSQL database and one
 * Redis database, reset by the global setup before every run.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pixmill_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
export const TEST_QUEUE_PREFIX = '{pixmill-test}';
