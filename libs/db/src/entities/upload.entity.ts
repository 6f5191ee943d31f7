import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './bigint.transformer';

/** A presigned direct-to-storage upload, pending until the client completes it. */
@Entity({ name: 'uploads' })
export class UploadEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId: string;
  @Column({ name: 'image_id', type: 'uuid' }) imageId: string;
  @Column({ name: 'storage_key', type: 'text' }) storageKey: string;
  @Column({ type: 'text' }) filename: string;
  @Column({ name: 'content_type', type: 'text' }) contentType: string;
  @Column({ name: 'reserved_bytes', type: 'bigint', transformer: bigintNumber }) reservedBytes: number;
  /** Receives this image's events (as a multipart upload's `webhookUrl` does). */
  @Column({ name: 'webhook_url', type: 'text', nullable: true }) webhookUrl: string | null;
  /** Validated transformation specs (as parseSpec returns them), rendered when the upload completes. */
  @Column({ type: 'jsonb' }) eager: Array<Record<string, unknown>>;
  @Column({ type: 'text' }) status: 'pending' | 'completed' | 'failed';
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt: Date;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
