import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (`validation_failed`); every bad field is listed in `errors`.',
  401: 'Missing, invalid or expired access token (`unauthorized`).',
  403: 'Quota exceeded (`storage_quota_exceeded`).',
  404: 'Not found, or owned by another user (`not_found`).',
  409: 'Conflict (`email_taken`, `idempotency_conflict`).',
  413: 'Upload larger than MAX_UPLOAD_BYTES (`file_too_large`).',
  415: 'Not an allowed image type (`unsupported_media_type`).',
  422: 'Image cannot be decoded or is too large (`image_corrupt`, `image_too_large`).',
  429: 'Rate limit or daily quota (`rate_limited`, `daily_quota_exceeded`); see Retry-After.',
  503: 'A dependency is unavailable (`unavailable`).',
};

/** Documents problem+json error responses of a route, with the codes each status can carry. */
export function ApiProblems(...statuses: Array<number | [number, string]>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((s) => {
      const [status, description] = Array.isArray(s) ? s : [s, DESCRIPTIONS[s]];
      return ApiResponse({
        status,
        description,
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } },
      });
    }),
  );
}
