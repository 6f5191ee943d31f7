import { open, stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { ImageCorruptException, ImageTooLargeException, UnsupportedMediaTypeException } from '@pixmill/common';
import { isAnimatedFormat } from '../spec/output-format.util';
import { InputFormat } from '../spec/transformation-spec.types';
import { DECODE_FAIL_ON, DEFAULT_PIPELINE_TIMEOUT_SECONDS } from './decode-policy';
import { toDecodeError } from './decode-error.util';
import { GpsPosition, ImageExif, parseExif } from './exif.parser';
import { SNIFF_BYTES, sniffImageType } from './image-sniff.util';
import { heicDecodeBytes, isHeic } from '../heif/heic-decoder.util';
import { parseHeifHeader } from '../heif/heif-header.parser';

export interface ProbeLimits {
  /** MAX_INPUT_PIXELS, counted over all frames. */
  maxInputPixels: number;
  maxAnimationFrames: number;
  /** ALLOW_SVG. */
  allowSvg?: boolean;
}

export interface ImageProbe {
  format: InputFormat;
  mimeType: string;
  /** Display size: after EXIF orientation (a portrait photo stored sideways reports portrait). */
  width: number;
  height: number;
  /** Frames that will be processed: the frame count for GIF/WebP, 1 otherwise (we render page 0 / the primary item). */
  pages: number;
  hasAlpha: boolean;
  /** EXIF orientation 1–8, or null when absent. */
  orientation: number | null;
  hasIccProfile: boolean;
  /** Selected EXIF fields, or null when the image has none. Never includes GPS. */
  exif: ImageExif | null;
  /** Private: for the owner only, never copied into derivatives. */
  gps: GpsPosition | null;
}

/** Where sharp calls its decoders `heif`, we split by codec. */
const SHARP_FORMATS: Record<string, InputFormat[]> = {
  jpeg: ['jpeg'],
  png: ['png'],
  gif: ['gif'],
  webp: ['webp'],
  tiff: ['tiff'],
  svg: ['svg'],
  heif: ['avif', 'heic'],
};

/**
 * Identifies and sizes an upload from its header alone (no pixel decode):
 * magic bytes decide the type, sharp's metadata gives size, frames and EXIF,
 * and the decompression-bomb limits of SPEC §6 are enforced before anything
 * decodes. Throws UnsupportedMediaTypeException (415), ImageCorruptException
 * or ImageTooLargeException (422) — never anything else.
 */
export async function probeImage(input: Buffer | string, limits: ProbeLimits): Promise<ImageProbe> {
  const sniffed = sniffImageType(await readHead(input));
  if (!sniffed) throw new UnsupportedMediaTypeException();
  if (sniffed.format === 'svg' && !limits.allowSvg) {
    throw new UnsupportedMediaTypeException('SVG images are not accepted.');
  }
  if (sniffed.format === 'heic') return probeHeic(input, limits);

  let meta: Metadata;
  try {
    // Header only; our own pixel limit is applied below, counted over frames.
    meta = await sharp(input, { limitInputPixels: false, failOn: DECODE_FAIL_ON }).metadata();
  } catch (e) {
    throw toDecodeError(e);
  }
  const candidates = SHARP_FORMATS[meta.format] ?? [];
  if (!candidates.includes(sniffed.format)) {
    // The signature says one thing, the decoder another (e.g. a HEIF with an
    // unexpected codec): refuse rather than guess.
    throw new ImageCorruptException('The image content does not match its format signature.');
  }
  const format: InputFormat =
    meta.format === 'heif' ? (meta.compression === 'av1' ? 'avif' : meta.compression === 'hevc' ? 'heic' : sniffed.format) : sniffed.format;

  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (!(width > 0 && height > 0)) throw new ImageCorruptException('The image has no dimensions.');
  const pages = isAnimatedFormat(format) ? Math.max(1, meta.pages ?? 1) : 1;
  if (pages > limits.maxAnimationFrames) {
    throw new ImageTooLargeException(`The image has ${pages} frames; the limit is ${limits.maxAnimationFrames}.`);
  }
  const pixels = width * height * pages;
  if (pixels > limits.maxInputPixels) {
    throw new ImageTooLargeException(
      `The image has ${pixels} pixels${pages > 1 ? ` over ${pages} frames` : ''}; the limit is ${limits.maxInputPixels}.`,
    );
  }

  const orientation = meta.orientation && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : null;
  const parsed = parseExif(meta.exif);
  const swapped = orientation !== null && orientation >= 5;
  return {
    format,
    mimeType: format === sniffed.format ? sniffed.mime : format === 'avif' ? 'image/avif' : 'image/heic',
    width: swapped ? height : width,
    height: swapped ? width : height,
    pages,
    hasAlpha: meta.hasAlpha ?? false,
    orientation,
    hasIccProfile: meta.hasProfile ?? false,
    exif: parsed && Object.keys(parsed.exif).length > 0 ? parsed.exif : null,
    gps: parsed?.gps ?? null,
  };
}

/**
 * HEIC: the HEIF boxes are parsed in plain TypeScript (no decoder, no pixel):
 * size after the file's transformations (or its EXIF orientation when it has
 * none), alpha, profile and EXIF, with the same pixel and image-count limits.
 */
async function probeHeic(input: Buffer | string, limits: ProbeLimits): Promise<ImageProbe> {
  const header = await parseHeifHeader(input, { maxInputPixels: limits.maxInputPixels, maxImages: limits.maxAnimationFrames });
  const parsed = parseExif(header.exif);
  return {
    format: 'heic',
    mimeType: 'image/heic',
    width: header.width,
    height: header.height,
    pages: 1,
    hasAlpha: header.hasAlpha,
    // What a reader applies: none when irot/imir already orient the image.
    orientation: header.hasTransform ? null : header.exifOrientation,
    hasIccProfile: header.icc !== null,
    exif: parsed && Object.keys(parsed.exif).length > 0 ? parsed.exif : null,
    gps: parsed?.gps ?? null,
  };
}

export interface VerifyDecodeOptions {
  maxInputPixels: number;
  /** Decode every frame (GIF/WebP). */
  animated?: boolean;
  timeoutSeconds?: number;
  /** The HEIC decoder's memory budget (HeicDecodeLimits.maxMemoryMb). */
  heicMaxMemoryMb?: number;
}

/**
 * Fully decodes the image (every frame when animated) with the project's
 * failOn policy, to catch what a header read cannot: truncated or corrupt
 * pixel data. Output is a tiny thumbnail, so memory stays small (JPEG and
 * WebP decode at reduced scale, but still read every byte of the stream).
 * HEIC is the exception: its header is checked, not its pixels (see below).
 * Call after `probeImage`.
 */
export async function verifyDecodes(input: Buffer | string, options: VerifyDecodeOptions): Promise<void> {
  if (isHeic(await readHead(input))) {
    // No full decode (seconds of WebAssembly and hundreds of MB for a phone photo): the HEIF
    // structure is checked instead (every item's data inside the file, HEVC parameter sets
    // present, limits), and the memory its decode will need must fit the decoder's budget.
    const header = await parseHeifHeader(input, { maxInputPixels: options.maxInputPixels });
    const size = Buffer.isBuffer(input) ? input.length : (await stat(input)).size;
    const needed = heicDecodeBytes(header, size);
    const budget = (options.heicMaxMemoryMb ?? 1024) * 1048576;
    if (needed > budget) {
      throw new ImageTooLargeException(`Decoding the image needs about ${Math.round(needed / 1048576)} MB; the limit is ${budget / 1048576} MB.`);
    }
    return;
  }
  try {
    await sharp(input, {
      failOn: DECODE_FAIL_ON,
      limitInputPixels: options.maxInputPixels,
      ...(options.animated ? { pages: -1 } : {}),
    })
      .timeout({ seconds: options.timeoutSeconds ?? DEFAULT_PIPELINE_TIMEOUT_SECONDS })
      .resize(64, 64, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (e) {
    throw toDecodeError(e);
  }
}

async function readHead(input: Buffer | string): Promise<Buffer> {
  if (Buffer.isBuffer(input)) return input.subarray(0, SNIFF_BYTES);
  let file;
  try {
    file = await open(input, 'r');
  } catch {
    throw new ImageCorruptException('The image could not be read.');
  }
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await file.read(head, 0, SNIFF_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
