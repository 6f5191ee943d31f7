import { JobName } from '@pixmill/queue';
import { FailedAttempt, finalFailureOf, renderFailedMessage } from './final-failure.util';

describe('finalFailureOf', () => {
  const jobId = '7f1c2a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b';
  const attempt = (over: Partial<FailedAttempt> = {}): FailedAttempt => ({
    name: JobName.Transform,
    data: { jobId },
    attemptsMade: 5,
    opts: { attempts: 5 },
    ...over,
  });

  it('records the failure after the last attempt', () => {
    expect(finalFailureOf(attempt(), new Error('connect ECONNREFUSED 127.0.0.1:9000'))).toEqual({
      jobId,
      code: 'internal_error',
      message: 'Rendering failed after 5 attempts: connect ECONNREFUSED 127.0.0.1:9000',
    });
  });

  it('records nothing while retries remain', () => {
    expect(finalFailureOf(attempt({ attemptsMade: 1 }), new Error('x'))).toBeNull();
    expect(finalFailureOf(attempt({ attemptsMade: 4 }), new Error('x'))).toBeNull();
  });

  it('treats a job without an attempts option as having one attempt', () => {
    expect(finalFailureOf(attempt({ attemptsMade: 1, opts: {} }), new Error('boom'))?.message).toBe(
      'Rendering failed after 1 attempt: boom',
    );
  });

  it('leaves other job names alone (they have no job row)', () => {
    expect(finalFailureOf(attempt({ name: JobName.Thumbnail, data: { imageId: jobId } }), new Error('x'))).toBeNull();
    expect(finalFailureOf(attempt({ name: JobName.StorageCleanup, data: { cleanupId: jobId } }), new Error('x'))).toBeNull();
  });

  it('ignores a transform job without a job id', () => {
    expect(finalFailureOf(attempt({ data: {} }), new Error('x'))).toBeNull();
  });
});

describe('renderFailedMessage', () => {
  it('keeps one short line of the reason: no stack reaches the job owner', () => {
    const message = renderFailedMessage(3, `first line ${'x'.repeat(500)}\n    at Foo (/app/dist/foo.js:1:2)`);
    expect(message).not.toContain('\n');
    expect(message).not.toContain('foo.js');
    expect(message.length).toBeLessThan(260);
  });

  it('leaves out the count when the row never started', () => {
    expect(renderFailedMessage(0, 'job stalled more than allowable limit')).toBe('Rendering failed: job stalled more than allowable limit');
  });

  it('says something when there is no reason', () => {
    expect(renderFailedMessage(2, undefined)).toBe('Rendering failed after 2 attempts: unknown error');
  });
});
