import { JobName, TransformJobData } from '@pixmill/queue';

/** What the worker host needs to know about a BullMQ job that just failed an attempt. */
export interface FailedAttempt {
  name: string;
  data: unknown;
  /** Attempts made, this one included (BullMQ counts it before emitting 'failed'). */
  attemptsMade: number;
  opts: { attempts?: number };
}

export interface FinalFailure {
  jobId: string;
  code: 'internal_error';
  message: string;
}

const MAX_REASON_CHARS = 200;

/**
 * The failure to record on the job row when a transform attempt failed and BullMQ
 * will not try again; null while retries remain, or for other job names.
 *
 * Bad input never gets here as a final failure worth recording: the processor marks
 * the row failed with its own code before throwing UnrecoverableError, and
 * JobRepository.markFailed only changes queued/active rows, so a second call is a no-op.
 */
export function finalFailureOf(attempt: FailedAttempt, err: Error | undefined): FinalFailure | null {
  if (attempt.name !== JobName.Transform) return null;
  const attempts = attempt.opts.attempts ?? 1;
  if (attempt.attemptsMade < attempts) return null;
  const jobId = (attempt.data as Partial<TransformJobData> | undefined)?.jobId;
  if (typeof jobId !== 'string') return null;
  return { jobId, code: 'internal_error', message: renderFailedMessage(attempt.attemptsMade, err?.message) };
}

/** The message on a job row that failed for a reason other than its input: shown to its owner, so one short line. */
export function renderFailedMessage(attempts: number, reason: string | undefined): string {
  const line = (reason || 'unknown error').split('\n')[0].slice(0, MAX_REASON_CHARS);
  if (attempts < 1) return `Rendering failed: ${line}`;
  return `Rendering failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${line}`;
}
