import { DomainException } from '@pixmill/common';

/** DELETE /v1/jobs/{id} on a job that has started or ended. */
export class JobNotCancelableException extends DomainException {
  constructor(status: string) {
    super('job_not_cancelable', `Only queued jobs can be canceled; this job is ${status}.`);
  }
}
