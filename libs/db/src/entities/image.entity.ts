import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './bigint.transformer';

export interface GpsPosition {
  latitude: number;
  longitude: number;
}

/** What a client shows while the image loads; set with the thumbnail. */
export interface ImagePlaceholderColumn {
  thumbhash: string;
  blurhash: string;
  dominantColor: string;
}

@Entity({ name: 'images' })
export class ImageEntity {
  /** Chosen by the API before the bytes are stored, so the storage key never comes from user input. */
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId: string;
  @Column({ type: 'text' }) filename: string;
  @Column({ type: 'text' }) format: string;
  @Column({ name: 'mime_type', type: 'text' }) mimeType: string;
  @Column({ type: 'int' }) width: number;
  @Column({ type: 'int' }) height: number;
  @Column({ type: 'int' }) pages: number;
  @Column({ type: 'bigint', transformer: bigintNumber }) bytes: number;
  @Column({ type: 'text' }) sha256: string;
  @Column({ type: 'jsonb', nullable: true }) exif: Record<string, unknown> | null;
  /** Owner-only; never copied to derivatives. */
  @Column({ type: 'jsonb', nullable: true }) gps: GpsPosition | null;
  @Column({ name: 'storage_key', type: 'text' }) storageKey: string;
  @Column({ name: 'thumbnail_key', type: 'text', nullable: true }) thumbnailKey: string | null;
  /** Why no thumbnail can be made (the original does not decode); null while one can. */
  @Column({ name: 'thumbnail_error', type: 'text', nullable: true }) thumbnailError?: string | null;
  /** Set with the thumbnail; null before it (and for images thumbnailed before placeholders existed). */
  @Column({ type: 'jsonb', nullable: true }) placeholder?: ImagePlaceholderColumn | null;
  /** Whether the original has an alpha channel (upload probe); null for images stored before it was recorded. */
  @Column({ name: 'has_alpha', type: 'boolean', nullable: true }) hasAlpha?: boolean | null;
  /** The upload's webhookUrl: receives this image's image.ready. */
  @Column({ name: 'webhook_url', type: 'text', nullable: true }) webhookUrl?: string | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
