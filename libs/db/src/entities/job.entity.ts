import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DerivativeEntity } from './derivative.entity';

export type JobStatus = 'queued' | 'active' | 'succeeded' | 'failed' | 'canceled';
export const FINAL_JOB_STATUSES: JobStatus[] = ['succeeded', 'failed', 'canceled'];

/** A transformation job. The row is the source of truth; its id is the BullMQ job id. */
@Entity({ name: 'jobs' })
export class JobEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId: string;
  /** Null once the image is deleted: its pending jobs stay, canceled; its finished ones go with it. */
  @Column({ name: 'image_id', type: 'uuid', nullable: true }) imageId: string | null;
  @Column({ name: 'spec_hash', type: 'text' }) specHash: string;
  /** The canonical spec (defaults filled), exactly what the worker renders. */
  @Column({ type: 'jsonb' }) spec: Record<string, unknown>;
  @Column({ type: 'text' }) status: JobStatus;
  @Column({ type: 'int' }) progress: number;
  @Column({ type: 'int' }) attempts: number;
  @Column({ type: 'boolean' }) cached: boolean;
  @Column({ name: 'derivative_id', type: 'uuid', nullable: true }) derivativeId: string | null;
  @Column({ name: 'error_code', type: 'text', nullable: true }) errorCode: string | null;
  @Column({ name: 'error_message', type: 'text', nullable: true }) errorMessage: string | null;
  @Column({ name: 'idempotency_key', type: 'text', nullable: true }) idempotencyKey: string | null;
  @Column({ name: 'request_hash', type: 'text', nullable: true }) requestHash: string | null;
  /** Every webhookUrl given by the requests this render answers, in order, without repeats. */
  @Column({ name: 'webhook_urls', type: 'text', array: true }) webhookUrls: string[];
  @Column({ name: 'request_id', type: 'text', nullable: true }) requestId: string | null;
  /** The job's round in fair scheduling, its queue priority (docs/decisions/008). */
  @Column({ name: 'fair_seq', type: 'bigint' }) fairSeq: number;
  /** The UTC day whose daily-transform unit this job took; null when it took none (a cache hit). */
  @Column({ name: 'quota_day', type: 'date', nullable: true }) quotaDay: string | null;
  /** The unit was given back (canceled before rendering, or failed for Pixmill's own reasons). */
  @Column({ name: 'quota_refunded', type: 'boolean' }) quotaRefunded: boolean;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt: Date | null;
  /** The derivative, when a read joined it (JobRepository.findById): a succeeded job's view needs no second read. */
  derivative?: DerivativeEntity | null;
}
