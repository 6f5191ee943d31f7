import { UnrecoverableError } from 'bullmq';
import { DomainException, LogFields } from '@pixmill/common';
import type { FailedAttempt } from './final-failure.util';
import type { JobReport } from './job-processor.decorator';

/** How one run of a job ended, as its log line says: `retrying` when BullMQ will run it again. */
export type JobRunOutcome = 'succeeded' | 'skipped' | 'retrying' | 'failed';

/** What the worker host knows of a BullMQ job while it runs (attemptsMade counts the earlier attempts only). */
export interface JobRun extends FailedAttempt {
  id?: string;
}

const MAX_ERROR_CHARS = 200;

/** BullMQ's own test: an UnrecoverableError (or one named so) is never retried. */
function isUnrecoverable(err: unknown): boolean {
  return err instanceof UnrecoverableError || (err as Error | undefined)?.name === 'UnrecoverableError';
}

/**
 * A failure's stable code when the processor reported none: a domain exception's own; after
 * the last attempt, `internal_error`, as the job row records it (final-failure.util.ts).
 */
function failureCode(err: unknown, finalFault: boolean): string | undefined {
  if (err instanceof DomainException) return err.code;
  return finalFault ? 'internal_error' : undefined;
}

/**
 * The one structured log line of a job run: ids to follow it (`requestId`, the same key as
 * the API's request line), what the processor reported, how it ended and how long it took.
 */
export function jobRunLogLine(
  run: JobRun,
  report: JobReport,
  durationMs: number,
  end: { result: unknown } | { error: unknown },
): LogFields & { outcome: JobRunOutcome } {
  const { refusedByReceiver, requestId, attempts, durationMs: reportedMs, errorCode, ...fields } = report;
  let outcome: JobRunOutcome;
  let failure: { errorCode?: string; error: string } | undefined;
  let reason: string | undefined;
  if ('error' in end) {
    const final = isUnrecoverable(end.error) || run.attemptsMade + 1 >= (run.opts.attempts ?? 1);
    outcome = final ? 'failed' : 'retrying';
    const code = errorCode ?? failureCode(end.error, final && !refusedByReceiver);
    const message = end.error instanceof Error ? end.error.message : String(end.error);
    failure = { ...(code ? { errorCode: code } : {}), error: message.split('\n')[0].slice(0, MAX_ERROR_CHARS) };
  } else {
    const skipped = (end.result as { skipped?: unknown } | undefined)?.skipped;
    outcome = typeof skipped === 'string' ? 'skipped' : 'succeeded';
    reason = typeof skipped === 'string' ? skipped : undefined;
  }
  return {
    msg: `${run.name} ${outcome}`,
    job: run.name,
    jobId: run.id,
    requestId: requestId ?? (run.data as { requestId?: string } | undefined)?.requestId,
    ...fields,
    outcome,
    durationMs: reportedMs ?? Math.round(durationMs),
    attempts: attempts ?? run.attemptsMade + 1,
    ...(reason ? { reason } : {}),
    ...failure,
  };
}
