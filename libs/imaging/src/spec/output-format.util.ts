import { InputFormat, OutputFormat } from './transformation-spec.types';

const EXTENSIONS: Record<OutputFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif', gif: 'gif' };
const MIME_TYPES: Record<OutputFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
};

/** Default `quality` per lossy format (sharp's own defaults for jpeg/webp/avif). */
export const DEFAULT_QUALITY: Partial<Record<OutputFormat, number>> = { jpeg: 80, webp: 80, avif: 50 };

/** File extension for derivative object keys (`{specHash}.{ext}`), without the dot. */
export function outputExtension(format: OutputFormat): string {
  return EXTENSIONS[format];
}

export function outputMimeType(format: OutputFormat): string {
  return MIME_TYPES[format];
}

/**
 * The output format when the spec names none: the input's own, when we can
 * write it. HEIC (no HEVC encoder in prebuilt sharp) and TIFF (not a web
 * format) become JPEG; SVG becomes PNG so transparency survives.
 */
export function defaultOutputFormat(inputFormat: InputFormat): OutputFormat {
  switch (inputFormat) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'avif':
    case 'gif':
      return inputFormat;
    case 'svg':
      return 'png';
    default:
      return 'jpeg';
  }
}

/** Formats that can carry animation: animated input stays animated when writing these. */
export function isAnimatedFormat(format: string): format is 'gif' | 'webp' {
  return format === 'gif' || format === 'webp';
}
