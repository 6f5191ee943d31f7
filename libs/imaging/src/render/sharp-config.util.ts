import sharp from 'sharp';

export interface SharpConfig {
  /** libvips threads per image (sharp.concurrency); 0 = one per CPU core. */
  concurrency: number;
  /** libvips operation cache, in MB; 0 disables it. */
  cacheMemoryMb: number;
}

/**
 * Configures sharp/libvips once per process (worker boot). Files are never
 * cached: inputs arrive as buffers and a cached file handle would only pin
 * deleted temp files.
 */
export function configureSharp(config: SharpConfig): void {
  sharp.concurrency(config.concurrency);
  sharp.cache(config.cacheMemoryMb > 0 ? { memory: config.cacheMemoryMb, files: 0, items: 100 } : false);
}
