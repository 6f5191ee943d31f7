import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './bigint.transformer';

/** A rendered output of an image for one canonical spec; immutable, content-addressed by spec hash. */
@Entity({ name: 'derivatives' })
export class DerivativeEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'image_id', type: 'uuid' }) imageId: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId: string;
  @Column({ name: 'spec_hash', type: 'text' }) specHash: string;
  @Column({ type: 'jsonb' }) spec: Record<string, unknown>;
  @Column({ name: 'storage_key', type: 'text' }) storageKey: string;
  @Column({ type: 'text' }) format: string;
  @Column({ name: 'mime_type', type: 'text' }) mimeType: string;
  @Column({ type: 'int' }) width: number;
  @Column({ type: 'int' }) height: number;
  @Column({ type: 'bigint', transformer: bigintNumber }) bytes: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
