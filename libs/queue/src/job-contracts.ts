import { JobName } from './queue-names';

/** Job data carries ids and small values, never image bytes. */
export interface PingJobData {
  message: string;
  requestId?: string;
}
export interface PingJobResult {
  message: string;
  workerPid: number;
  handledAt: string;
}

export type JobItem = { name: JobName.Ping; data: PingJobData };

export interface JobResults {
  [JobName.Ping]: PingJobResult;
}
