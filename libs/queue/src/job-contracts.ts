import type { TraceCarrier } from '@pixmill/tracing';
import { JobName } from './queue-names';

/**
 * Job data carries ids and small values, never image bytes. Every job may carry the W3C trace
 * context (`traceparent`) of the span that enqueued it: the worker's run of it joins that trace.
 */
export interface PingJobData extends TraceCarrier {
  message: string;
  requestId?: string;
}
export interface PingJobResult {
  message: string;
  workerPid: number;
  handledAt: string;
}

/** Render the 256 px WebP listing thumbnail of a freshly uploaded image. */
export interface ThumbnailJobData extends TraceCarrier {
  imageId: string;
  requestId?: string;
}

/** Render the derivative of job row `jobId` (its id is also the BullMQ job id). */
export interface TransformJobData extends TraceCarrier {
  jobId: string;
  requestId?: string;
  /** Times the job was found over its owner's running cap and put back for a moment (the cap is off by default). */
  overCap?: number;
}

/** Delete every object under the prefix recorded in storage_cleanups row `cleanupId`. */
export interface StorageCleanupJobData extends TraceCarrier {
  cleanupId: string;
  requestId?: string;
}

/** Send webhook_deliveries row `deliveryId` (one message to one target); retried on the webhook schedule. */
export interface WebhookDeliveryJobData extends TraceCarrier {
  deliveryId: string;
  requestId?: string;
}

export type JobItem =
  | { name: JobName.Ping; data: PingJobData }
  | { name: JobName.Thumbnail; data: ThumbnailJobData }
  | { name: JobName.Transform; data: TransformJobData }
  | { name: JobName.StorageCleanup; data: StorageCleanupJobData }
  | { name: JobName.WebhookDelivery; data: WebhookDeliveryJobData };

/** The item of one job name: `JobOf<JobName.Transform>['data']` is TransformJobData, so a mismatch does not compile. */
export type JobOf<N extends JobName> = Extract<JobItem, { name: N }>;
/** The data of one job name. */
export type JobDataOf<N extends JobName> = JobOf<N>['data'];

export interface JobResults {
  [JobName.Ping]: PingJobResult;
  [JobName.Thumbnail]: { key: string; bytes: number } | { skipped: string };
  [JobName.StorageCleanup]: { deleted: number };
  [JobName.Transform]: { derivativeId: string } | { skipped: string };
  [JobName.WebhookDelivery]: { statusCode: number | null } | { skipped: string };
}

/** BullMQ job ids of jobs that exist at most once per subject (a re-enqueue is a no-op). */
export const jobIds = {
  thumbnail: (imageId: string) => `thumbnail-${imageId}`,
  storageCleanup: (cleanupId: string) => `cleanup-${cleanupId}`,
  webhookDelivery: (deliveryId: string) => `webhook-${deliveryId}`,
};

/** The backoff type of webhook deliveries: the worker maps it to WEBHOOK_RETRY_SCHEDULE. */
export const WEBHOOK_BACKOFF = 'webhook-schedule';
