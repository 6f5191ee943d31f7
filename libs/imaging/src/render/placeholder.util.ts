import sharp from 'sharp';
import { encode as encodeBlurhash } from 'blurhash';
import { rgbaToThumbHash } from 'thumbhash';
import { DECODE_FAIL_ON } from '../probe/decode-policy';

/** What a client shows while the image loads (GET /v1/images/{id}, image.ready). */
export interface ImagePlaceholder {
  /** ThumbHash bytes, base64 (decode with thumbhash's thumbHashToDataURL). */
  thumbhash: string;
  /** BlurHash string: 4 × 3 components for a landscape image, 3 × 4 for a portrait one. */
  blurhash: string;
  /** The most common colour, `#rrggbb` (sharp's stats().dominant). */
  dominantColor: string;
}

/** ThumbHash takes at most 100 px a side; BlurHash is as good from 32 px as from more, and much faster. */
const THUMBHASH_SIDE = 100;
const BLURHASH_SIDE = 32;

/**
 * The placeholders of an image, computed from a small rendering of it (the 256 px
 * listing thumbnail: already decoded, oriented and sRGB, so this costs a few ms).
 */
export async function computePlaceholder(thumbnail: Buffer): Promise<ImagePlaceholder> {
  const small = (side: number) =>
    sharp(thumbnail, { failOn: DECODE_FAIL_ON })
      .resize(side, side, { fit: 'inside' })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  const [th, bh, stats] = await Promise.all([
    small(THUMBHASH_SIDE),
    small(BLURHASH_SIDE),
    sharp(thumbnail, { failOn: DECODE_FAIL_ON }).toColourspace('srgb').stats(),
  ]);
  const thumbhash = Buffer.from(rgbaToThumbHash(th.info.width, th.info.height, th.data)).toString('base64');
  const landscape = bh.info.width >= bh.info.height;
  const blurhash = encodeBlurhash(
    new Uint8ClampedArray(bh.data.buffer, bh.data.byteOffset, bh.data.length),
    bh.info.width,
    bh.info.height,
    landscape ? 4 : 3,
    landscape ? 3 : 4,
  );
  const { r, g, b } = stats.dominant;
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return { thumbhash, blurhash, dominantColor: `#${hex(r)}${hex(g)}${hex(b)}` };
}
