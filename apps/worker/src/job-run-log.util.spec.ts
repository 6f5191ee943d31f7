import { UnrecoverableError } from 'bullmq';
import { DomainException } from '@pixmill/common';
import { JobName } from '@pixmill/queue';
import { JobRun, jobRunLogLine } from './job-run-log.util';

describe('jobRunLogLine', () => {
  const run = (over: Partial<JobRun> = {}): JobRun => ({
    name: JobName.Transform,
    id: 'b7e1c0de-0000-4000-8000-000000000001',
    data: { jobId: 'b7e1c0de-0000-4000-8000-000000000001', requestId: 'req-1' },
    attemptsMade: 0,
    opts: { attempts: 5 },
    ...over,
  });

  it('a success: ids, what the processor reported, the duration rounded, the attempt counted from 1', () => {
    const line = jobRunLogLine(run(), { imageId: 'img-1', userId: 'user-1', ops: 'resize+watermark', format: 'webp' }, 123.6, {
      result: { derivativeId: 'd-1' },
    });
    expect(line).toEqual({
      msg: 'transform succeeded',
      job: 'transform',
      jobId: 'b7e1c0de-0000-4000-8000-000000000001',
      requestId: 'req-1',
      imageId: 'img-1',
      userId: 'user-1',
      ops: 'resize+watermark',
      format: 'webp',
      outcome: 'succeeded',
      durationMs: 124,
      attempts: 1,
    });
  });

  it('a skipped run says why', () => {
    expect(jobRunLogLine(run(), {}, 5, { result: { skipped: 'image deleted' } })).toMatchObject({ outcome: 'skipped', reason: 'image deleted' });
  });

  it('a transient fault with attempts left is retrying, without a code; after the last attempt it failed as internal_error', () => {
    const err = new Error('connect ECONNREFUSED 127.0.0.1:9000\n    at stack');
    expect(jobRunLogLine(run({ attemptsMade: 1 }), {}, 5, { error: err })).toMatchObject({
      outcome: 'retrying',
      attempts: 2,
      error: 'connect ECONNREFUSED 127.0.0.1:9000',
    });
    expect(jobRunLogLine(run({ attemptsMade: 1 }), {}, 5, { error: err })).not.toHaveProperty('errorCode');
    expect(jobRunLogLine(run({ attemptsMade: 4 }), {}, 5, { error: err })).toMatchObject({ outcome: 'failed', errorCode: 'internal_error', attempts: 5 });
  });

  it("bad input fails at once with the processor's code; a domain exception's code is used when none was reported", () => {
    const bad = new UnrecoverableError('image_corrupt: The image data is truncated.');
    expect(jobRunLogLine(run(), { errorCode: 'image_corrupt', attempts: 1 }, 5, { error: bad })).toMatchObject({
      msg: 'transform failed',
      outcome: 'failed',
      errorCode: 'image_corrupt',
      error: 'image_corrupt: The image data is truncated.',
    });
    const unavailable = new DomainException('unavailable', 'Storage is unavailable.');
    expect(jobRunLogLine(run(), {}, 5, { error: unavailable })).toMatchObject({ outcome: 'retrying', errorCode: 'unavailable' });
  });

  it("a webhook delivery: the message's request id and the HTTP attempt's duration win; a receiver's refusal has no code", () => {
    const delivery = run({ name: JobName.WebhookDelivery, id: 'webhook-d-1', data: { deliveryId: 'd-1' }, opts: { attempts: 4 } });
    const report = {
      deliveryId: 'd-1',
      messageId: 'msg_1',
      requestId: 'req-9',
      attempts: 3,
      statusCode: 500,
      durationMs: 42,
      refusedByReceiver: true,
    };
    const line = jobRunLogLine(delivery, report, 77, { error: new UnrecoverableError('gave up on http://x/: HTTP 500') });
    expect(line).toEqual({
      msg: 'webhook-delivery failed',
      job: 'webhook-delivery',
      jobId: 'webhook-d-1',
      requestId: 'req-9',
      deliveryId: 'd-1',
      messageId: 'msg_1',
      statusCode: 500,
      outcome: 'failed',
      durationMs: 42,
      attempts: 3,
      error: 'gave up on http://x/: HTTP 500',
    });
  });
});
