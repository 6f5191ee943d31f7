export * from './s3rver';
export * from './test-env';
export * from './test-config';
export * from './api.harness';
export * from './worker-process.harness';
export * from './http.client';
export * from './user.factory';
