import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import IORedis from 'ioredis';
import { JobName, JobQueue, QueueName } from '@pixmill/queue';
import { deleteKeysMatching, TEST_QUEUE_PREFIX, TEST_REDIS_URL, testConfig } from '@pixmill/testing';

/**
 * A long-poll waits on the queue's event stream. The reader is opened by the first
 * wait of an API process, so that first wait races the reader's start: a job that
 * finishes while the reader is starting must still wake it.
 */
describe('JobQueue.waitFor on a freshly opened event reader (integration)', () => {
  const ROUNDS = 20;
  const redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  /** `{pixmill-test-<run>-events-N}`: prefixes are one hash tag; deleted after the test. */
  const prefixOf = (round: number) => `${TEST_QUEUE_PREFIX.slice(0, -1)}-events-${round}}`;

  afterAll(async () => {
    await deleteKeysMatching(redis, `${TEST_QUEUE_PREFIX.slice(0, -1)}-events-*`);
    redis.disconnect();
  });

  it(`wakes on a job that completes while the reader starts (${ROUNDS} fresh readers)`, async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A fresh prefix each round: a quiet stream and a reader that has seen nothing yet.
      const config = testConfig({ QUEUE_PREFIX: prefixOf(round) });
      const queue = new JobQueue(config);
      const connection = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
      const worker = new Worker(QueueName.Transform, async () => ({ derivativeId: 'd' }), {
        connection,
        prefix: config.redis.queuePrefix,
        autorun: false,
      });
      try {
        const jobId = randomUUID();
        await queue.enqueueTransform({ id: jobId, fairSeq: 1 });
        const waiting = queue.waitFor(JobName.Transform, jobId, 5_000);
        // The job completes at a different moment of the reader's start each round (0-19 ms after the wait begins).
        setTimeout(() => void worker.run(), round % 20);
        outcomes.push(await waiting.then((r) => JSON.stringify(r), (err: Error) => err.message));
      } finally {
        await worker.close();
        connection.disconnect();
        await queue.onApplicationShutdown();
      }
    }
    expect(outcomes).toEqual(Array(ROUNDS).fill(JSON.stringify({ derivativeId: 'd' })));
  });
});
