import { thumbHashToDataURL } from 'thumbhash';
import { PixmillError } from './pixmill.error';

/**
 * A `data:image/png;base64,…` URL of an image's ThumbHash (`placeholder.thumbhash` of
 * `GET /v1/images/{id}` or `image.ready`), for `<img src>` or a CSS `background-image`
 * while the image loads. It is a PNG of at most 32 px a side with the image's aspect ratio
 * and alpha, made in plain JavaScript (browsers and Node alike); show it stretched to the
 * image's box, which browsers smooth into a blur.
 */
export function thumbHashDataUrl(thumbhash: string): string {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(thumbhash), (c) => c.charCodeAt(0));
  } catch {
    throw new PixmillError('invalid_response', 'the ThumbHash is not base64', 0);
  }
  // The shortest ThumbHash is 5 bytes (header and average colour): less is not one.
  if (bytes.length < 5) throw new PixmillError('invalid_response', 'the ThumbHash is too short to be one', 0);
  return thumbHashToDataURL(bytes);
}
