/**
 * @pixmill/sdk — the Pixmill API client for Node 20+ and browsers. This entry imports
 * nothing Node-only; `@pixmill/sdk/node` adds helpers for files on disk.
 */
export * from './pixmill.client';
export * from './pixmill.error';
export * from './webhook.verify';
export * from './sign-url.util';
export * from './placeholder.util';
export type { UploadData, UploadProgress } from './multipart.body';
export { ERROR_CODE_STATUS } from './generated/error-codes';
export type { ApiErrorCode } from './generated/error-codes';
export type { components, paths, operations } from './generated/openapi';
