// The API's documented shapes (see /openapi.json) that the console uses.
export interface Problem {
  type?: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
}
export interface Session {
  user: { id: string; email: string; plan: string };
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}
export interface Me {
  id: string;
  email: string;
  plan: string;
  createdAt: string;
  /** What public /i/ URLs accept: any spec, or presets only (then previews use the authenticated route). */
  publicUrls: 'any' | 'presets-only';
  usage: { storageBytes: number; storageQuotaBytes: number | null; transformsToday: number; dailyTransformQuota: number | null };
}
export interface Image {
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
  /** Computed with the thumbnail; null until then. */
  placeholder: ImagePlaceholder | null;
}
/** What to show while an image loads: ThumbHash (base64), a 4 × 3 BlurHash, the dominant colour `#rrggbb`. */
export interface ImagePlaceholder {
  thumbhash: string;
  blurhash: string;
  dominantColor: string;
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export interface Derivative {
  id: string;
  specHash: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  url: string;
  createdAt: string;
}
export type JobStatus = 'queued' | 'active' | 'succeeded' | 'failed' | 'canceled';
export interface Job {
  id: string;
  imageId: string;
  status: JobStatus;
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
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  secret: string;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
}
export interface WebhookDelivery {
  id: string;
  messageId: string;
  type: string;
  target: string;
  endpointId: string | null;
  url: string;
  jobId: string | null;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  nextAttemptAt: string | null;
  attempts: { attemptedAt: string; statusCode: number | null; durationMs: number; error: string | null }[];
  createdAt: string;
}
/** Query of GET /v1/webhook-deliveries: both optional, both UUIDs. */
export interface DeliveryFilter {
  endpointId?: string;
  jobId?: string;
}
export const WEBHOOK_EVENTS = ['job.succeeded', 'job.failed', 'image.ready', 'image.deleted'] as const;
