export * from './app-config';
export * from './config.loader';
export * from './config.module';
export * from './duration.util';
export { DEFAULT_JWT_SECRET } from './environment';
export * from './redis-url.util';
