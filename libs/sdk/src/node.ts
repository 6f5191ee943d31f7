import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { UploadOptions } from './pixmill.client';
import type { UploadData } from './multipart.body';

export * from './index';

const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.svg': 'image/svg+xml',
};

/** A file on disk as `upload` takes it: streamed, with its name and size for progress. */
export async function fileSource(file: string): Promise<{ data: UploadData; options: Pick<UploadOptions, 'filename' | 'size' | 'contentType'> }> {
  const { size } = await stat(file);
  return {
    data: createReadStream(file),
    options: { filename: path.basename(file), size, contentType: TYPES[path.extname(file).toLowerCase()] },
  };
}
