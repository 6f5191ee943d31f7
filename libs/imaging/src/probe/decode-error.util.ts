import {
  DomainException,
  ImageCorruptException,
  ImageTooLargeException,
  UnsupportedMediaTypeException,
} from '@pixmill/common';

/**
 * Turns whatever sharp/libvips threw into one of the three domain errors of
 * SPEC §3 (415/422), so no decoder failure ever reaches a client as a 500.
 * Domain exceptions pass through untouched.
 */
export function toDecodeError(error: unknown): DomainException {
  if (error instanceof DomainException) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/exceeds pixel limit/i.test(message)) {
    return new ImageTooLargeException('The image has more pixels than allowed.');
  }
  // libheif names a codec that this libvips build lacks (HEVC, i.e. most HEIC photos) on a later line.
  if (/no decoding plugin|unsupported codec|unsupported compression|has not been built in|decoder plugin/i.test(message)) {
    return new UnsupportedMediaTypeException('This image uses a codec that cannot be decoded here.');
  }
  // "unsupported image format" is NOT mapped to 415: the type was already decided by magic
  // bytes, so a decoder that cannot make sense of it means the content is broken.
  if (/^timeout/i.test(message)) {
    return new ImageCorruptException('The image took too long to decode.');
  }
  return new ImageCorruptException(`The image cannot be decoded${reason(message)}.`);
}

/** A short libvips reason, unless it could reveal a server path. */
function reason(message: string): string {
  const first = message.split('\n')[0].trim().slice(0, 120);
  return first && !first.includes('/') && !first.includes('\\') ? `: ${first}` : '';
}
