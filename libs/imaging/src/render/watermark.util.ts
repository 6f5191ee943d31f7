import sharp from 'sharp';
import { parseColor } from '../spec/color.util';
import { WatermarkOperation } from '../spec/transformation-spec.types';

/** Gap between the watermark and the image edge, as a share of the image width. */
const MARGIN = 0.02;

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/**
 * Builds the overlay for a watermark on a `baseWidth` × `baseHeight` image: a
 * PNG with alpha, `size`% of the base width wide (never larger than the base),
 * `opacity` applied, with a small transparent margin so it does not touch the
 * edge at its gravity.
 */
export async function buildWatermark(
  op: Required<Pick<WatermarkOperation, 'opacity' | 'size'>> & WatermarkOperation,
  baseWidth: number,
  baseHeight: number,
  image: Buffer | undefined,
): Promise<Buffer> {
  // The overlay (mark + margin on each side) must fit inside the base, however small the base is.
  const margin = Math.max(0, Math.min(Math.round(baseWidth * MARGIN), Math.floor((Math.min(baseWidth, baseHeight) - 1) / 2)));
  const maxWidth = Math.max(1, Math.min(Math.round((baseWidth * op.size) / 100), baseWidth - 2 * margin));
  const maxHeight = Math.max(1, baseHeight - 2 * margin);
  const mark = op.text !== undefined ? await textMark(op.text, op.color) : await imageMark(image);
  const fitted = await sharp(mark).resize(maxWidth, maxHeight, { fit: 'inside' }).ensureAlpha().png().toBuffer();
  // Scale only the alpha band (its own pipeline: sharp would run linear before ensureAlpha).
  const faded = await sharp(fitted).linear([1, 1, 1, op.opacity], [0, 0, 0, 0]).png().toBuffer();
  return sharp(faded)
    .extend({ top: margin, bottom: margin, left: margin, right: margin, background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .png()
    .toBuffer();
}

/** Renders the text large, trims it to its ink, so the caller can scale it to the wanted width. */
async function textMark(text: string, color: string | undefined): Promise<Buffer> {
  const rgba = parseColor(color ?? '#ffffff') ?? { r: 255, g: 255, b: 255, alpha: 1 };
  const fontSize = 96;
  const width = Math.ceil(fontSize * 0.7 * [...text].length) + fontSize;
  const height = Math.ceil(fontSize * 1.5);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<text x="${fontSize / 2}" y="${fontSize * 1.1}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}" ` +
    `fill="rgb(${rgba.r},${rgba.g},${rgba.b})" fill-opacity="${rgba.alpha}" xml:space="preserve">${escapeXml(text)}</text></svg>`;
  const rendered = await sharp(Buffer.from(svg)).png().toBuffer();
  try {
    return await sharp(rendered).trim().png().toBuffer();
  } catch {
    return rendered; // nothing to trim to (e.g. only spaces): keep the blank box
  }
}

async function imageMark(image: Buffer | undefined): Promise<Buffer> {
  if (!image) throw new Error('watermark image missing'); // callers check first; see render.pipeline
  return sharp(image, { autoOrient: true }).png().toBuffer();
}
