export * from './domain.exception';
export * from './errors';
