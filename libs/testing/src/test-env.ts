import { tmpdir } from 'node:os';

/**
 * Where the tests' own services live. Each jest run gets its own PostgreSQL
 * database and queue prefix (set by test/global-setup.ts), so runs on one
 * machine never disturb each other.
 */
const RUN_ID = process.env.PIXMILL_TEST_RUN_ID ?? 'local';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? `postgres://postgres@127.0.0.1:5432/pixmill_test_${RUN_ID}`;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
export const TEST_QUEUE_PREFIX = `{pixmill-test-${RUN_ID}}`;
/** Where the HTTP client tallies the responses it checked against openapi.json during this run. */
export const OPENAPI_TALLY_FILE = `${tmpdir()}/pixmill-openapi-tally-${RUN_ID}.log`;
