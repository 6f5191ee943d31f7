/** Object keys, SPEC §1. The only place that knows the layout. */

/** Every object of an account (its images and pending direct uploads). */
export function userPrefix(userId: string): string {
  return `users/${userId}/`;
}

export function imagePrefix(userId: string, imageId: string): string {
  return `users/${userId}/images/${imageId}/`;
}

export function originalKey(userId: string, imageId: string): string {
  return `${imagePrefix(userId, imageId)}original`;
}

/** Content-addressed by spec, hence immutable (stored with IMMUTABLE_CACHE_CONTROL). */
export function derivativeKey(userId: string, imageId: string, specHash: string, ext: string): string {
  return `${imagePrefix(userId, imageId)}derivatives/${specHash}.${ext}`;
}

/** Where a presigned direct upload lands before it is validated and becomes an image. */
export function uploadKey(userId: string, uploadId: string): string {
  return `users/${userId}/uploads/${uploadId}`;
}

export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
