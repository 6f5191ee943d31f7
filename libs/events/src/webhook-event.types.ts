/** Every webhook event Pixmill sends (SPEC §5). */
export const WEBHOOK_EVENT_TYPES = ['job.succeeded', 'job.failed', 'image.ready', 'image.deleted'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The job as `GET /v1/jobs/{id}` returns it. */
export interface JobView {
  id: string;
  imageId: string | null;
  status: string;
  progress: number;
  attempts: number;
  cached: boolean;
  spec: Record<string, unknown>;
  error: { code: string; message: string } | null;
  result: { derivativeId: string; url: string; width: number; height: number; format: string; bytes: number } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** The image as `GET /v1/images/{id}` returns it. */
export interface ImageView {
  id: string;
  filename: string;
  format: string;
  mimeType: string;
  width: number;
  height: number;
  bytes: number;
  pages: number;
  sha256: string;
  exif: Record<string, unknown> | null;
  createdAt: string;
  urls: { original: string | null; thumbnail: string | null };
  /** Shown while the image loads; null until the thumbnail is rendered. */
  placeholder: { thumbhash: string; blurhash: string; dominantColor: string } | null;
}
