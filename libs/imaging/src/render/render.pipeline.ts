import sharp from 'sharp';
import type { Metadata, Sharp, SharpOptions } from 'sharp';
import { ImageTooLargeException } from '@pixmill/common';
import { DECODE_FAIL_ON, DEFAULT_PIPELINE_TIMEOUT_SECONDS } from '../probe/decode-policy';
import { toDecodeError } from '../probe/decode-error.util';
import { isAnimatedFormat, outputMimeType } from '../spec/output-format.util';
import { CanonicalOutputSpec, canonicalSpec } from '../spec/spec-hash.util';
import {
  CropOperation,
  FrameOperation,
  InputFormat,
  MAX_OUTPUT_SIDE,
  Operation,
  OutputFormat,
  ResizeOperation,
  RoundCornersOperation,
  TransformationSpec,
  WatermarkOperation,
} from '../spec/transformation-spec.types';
import { decodableInput } from '../heif/heic-decoder.util';
import { RenderSpecException } from './render-spec.exception';
import { buildWatermark } from './watermark.util';

export interface RenderOptions {
  /** The original's format (from the probe): decides the default output format. */
  inputFormat: InputFormat;
  maxInputPixels: number;
  maxOutputPixels: number;
  /** Watermark images by imageId; the caller loads those the spec names (and checks ownership). */
  watermarkImages?: Record<string, Buffer>;
  timeoutSeconds?: number;
  /** Most frames an animated output may have (MAX_OUTPUT_FRAMES); more is image_too_large. Default 100. */
  maxOutputFrames?: number;
}

/** MAX_OUTPUT_FRAMES when the caller does not pass one. */
export const DEFAULT_MAX_OUTPUT_FRAMES = 100;

export interface RenderResult {
  data: Buffer;
  format: OutputFormat;
  mimeType: string;
  width: number;
  /** Height of one frame for animated output. */
  height: number;
  bytes: number;
  /** Frames in the output (1 unless animated). */
  pages: number;
}

const SEPIA: [[number, number, number], [number, number, number], [number, number, number]] = [
  [0.393, 0.769, 0.189],
  [0.349, 0.686, 0.168],
  [0.272, 0.534, 0.131],
];

/** Ops that act pixel by pixel (or locally) and can share the decode pipeline without reordering anything. */
const FUSABLE_WITH_DECODE = new Set<Operation['op']>([
  'resize',
  'grayscale',
  'sepia',
  'blur',
  'sharpen',
  'modulate',
  'contrast',
  'tint',
  'negate',
]);

/** Ops that sharp applies as a composite, after any flatten of the same pipeline. */
const COMPOSITES = new Set<Operation['op'] | undefined>(['roundCorners', 'watermark']);

/** Ops whose output size depends on the pixels: the stage is materialised after them to learn it. */
const SIZE_FROM_PIXELS = new Set<Operation['op']>(['trim']);

interface Context {
  options: RenderOptions;
  timeout: number;
  /** Output frames: output pixel limits count over all of them. */
  frames: number;
  watermarks: Map<string, Buffer>;
  /** Carry the input's ICC profile through (output.keepProfile, not for CMYK); otherwise every stage is sRGB. */
  keepProfile: boolean;
  /** The frame the decode reads (a `frame` op with an index). */
  page?: number;
}

/**
 * One pipeline in the chain. sharp runs the operations of one pipeline in its
 * own fixed order, not in call order, so each spec operation gets a pipeline
 * of its own and the result is materialised (uncompressed TIFF, ICC kept)
 * before the next. The exception is the decode pipeline, which also takes the
 * first op when it is a resize (JPEG/WebP shrink-on-load) or a pixel op.
 */
interface Stage {
  image: Sharp;
  width: number;
  height: number;
  /** No op applied yet in this pipeline. */
  fresh: boolean;
  /** This is the decode pipeline (auto-orient pending inside it). */
  decode: boolean;
}

/**
 * Renders `spec` on `input`: decode (failOn policy, pixel limit), EXIF
 * auto-orient, each operation in order, then encode per `output` with all
 * metadata stripped except the ICC profile. Animated GIF/WebP stays animated
 * when the output is GIF or WebP. Errors are domain exceptions only:
 * ImageCorruptException / UnsupportedMediaTypeException (decode),
 * ImageTooLargeException (input or output too large), RenderSpecException
 * (spec cannot apply to this image, e.g. crop outside it).
 */
export async function render(input: Buffer, spec: TransformationSpec, options: RenderOptions): Promise<RenderResult> {
  const canonical = canonicalSpec(spec, options.inputFormat);
  const ctx: Context = {
    options,
    timeout: options.timeoutSeconds ?? DEFAULT_PIPELINE_TIMEOUT_SECONDS,
    frames: 1,
    watermarks: new Map(),
    keepProfile: canonical.output.keepProfile === true,
  };
  // `frame` is a decode choice (parseSpec keeps it first); the chain proper starts after it.
  const [first, ...rest] = canonical.operations;
  const frame = first?.op === 'frame' ? first : undefined;
  const ops = frame ? rest : canonical.operations;
  try {
    // HEIC: decoded by libheif (WebAssembly, in a worker thread) to an upright TIFF that sharp reads.
    if (options.inputFormat === 'heic') {
      input = await decodableInput(input, { maxInputPixels: options.maxInputPixels, timeoutSeconds: ctx.timeout });
    }
    const header = await sharp(input, { limitInputPixels: false, failOn: DECODE_FAIL_ON }).metadata();
    if (header.space === 'cmyk') ctx.keepProfile = false; // a CMYK profile cannot tag RGB output
    const pages = header.pages ?? 1;
    if (frame?.index !== undefined) {
      if (frame.index >= pages) {
        throw new RenderSpecException(`The image has ${pages} frame(s); frame ${frame.index} does not exist.`);
      }
      ctx.page = frame.index;
    } else if (pages > 1 && isAnimatedFormat(options.inputFormat) && isAnimatedFormat(canonical.output.format)) {
      return await renderAnimated(input, ops, canonical.output, header, ctx);
    }
    return await renderStill(input, ops, canonical.output, ctx, header);
  } catch (e) {
    throw toDecodeError(e);
  }
}

async function renderStill(input: Buffer, ops: Operation[], output: CanonicalOutputSpec, ctx: Context, header: Metadata) {
  const decoded = sharp(input, decodeOptions(ctx)).timeout({ seconds: ctx.timeout });
  // The header read above describes the first page, which is what a still decodes unless `frame` picks another.
  const meta = ctx.page === undefined ? header : await decoded.metadata();
  const start: Stage = {
    image: decoded,
    width: meta.autoOrient?.width ?? meta.width ?? 0,
    height: meta.autoOrient?.height ?? meta.height ?? 0,
    fresh: true,
    decode: true,
  };
  let last = await runOperations(start, ops, ctx);
  // sharp flattens before it composites within one pipeline: a JPEG's white must go under the last composite's alpha.
  if (output.format === 'jpeg' && COMPOSITES.has(ops[ops.length - 1]?.op)) last = await materialize(last, ctx);
  checkOutputSize(last.width, last.height, ctx);
  const { data, info } = await encode(last.image, output, {}, last.width * last.height, ctx.keepProfile).toBuffer({
    resolveWithObject: true,
  });
  checkOutputSize(info.width, info.height, ctx);
  return result(data, output.format, info.width, info.height, 1);
}

async function renderAnimated(
  input: Buffer,
  ops: Operation[],
  output: CanonicalOutputSpec,
  meta: Metadata,
  ctx: Context,
): Promise<RenderResult> {
  const frames = meta.pages ?? 1;
  checkFrameCount(frames, ctx.options);
  ctx.frames = frames;
  // One decode of all frames into an RGBA strip; each frame then runs the chain on its own.
  const { data, info } = await sharp(input, { ...decodeOptions(ctx), autoOrient: false, pages: -1 })
    .timeout({ seconds: ctx.timeout })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const frameHeight = info.pageHeight ?? Math.floor(info.height / frames);
  const frameBytes = info.width * frameHeight * 4;
  const rendered: Buffer[] = [];
  let width = 0;
  let height = 0;
  for (let i = 0; i < frames; i++) {
    const frame = sharp(data.subarray(i * frameBytes, (i + 1) * frameBytes), {
      raw: { width: info.width, height: frameHeight, channels: 4 },
    });
    const last = await runOperations(
      { image: frame, width: info.width, height: frameHeight, fresh: true, decode: true },
      ops,
      ctx,
    );
    const out = await toRgba(last.image);
    if (i === 0) {
      width = out.width;
      height = out.height;
      checkOutputSize(width, height, ctx);
    } else if (out.width !== width || out.height !== height) {
      throw new RenderSpecException('The operations give frames of different sizes; the animation cannot be kept.');
    }
    rendered.push(out.data);
  }
  const strip = sharp(Buffer.concat(rendered), {
    raw: { width, height: height * frames, channels: 4, pageHeight: height },
  }).timeout({ seconds: ctx.timeout });
  const encoded = await encode(strip, output, { loop: meta.loop, delay: meta.delay }, width * height * frames, false).toBuffer();
  return result(encoded, output.format, width, height, frames);
}

async function runOperations(stage: Stage, ops: Operation[], ctx: Context): Promise<Stage> {
  let current = stage;
  for (const op of ops) {
    const fuse = current.fresh && (!current.decode || FUSABLE_WITH_DECODE.has(op.op));
    if (!fuse) current = await materialize(current, ctx);
    const size = predictSize(op, current);
    checkIntermediateSize(size.width, size.height, ctx);
    current = { image: await applyOperation(current, op, ctx), ...size, fresh: false, decode: false };
    if (SIZE_FROM_PIXELS.has(op.op)) {
      current = await materialize(current, ctx);
      checkIntermediateSize(current.width, current.height, ctx);
    }
  }
  return current;
}

async function materialize(stage: Stage, ctx: Context): Promise<Stage> {
  const { data, info } = await withProfile(stage.image, ctx.keepProfile)
    .tiff({ compression: 'none' })
    .toBuffer({ resolveWithObject: true });
  return {
    image: sharp(data, { limitInputPixels: false }).timeout({ seconds: ctx.timeout }),
    width: info.width,
    height: info.height,
    fresh: true,
    decode: false,
  };
}

async function applyOperation(stage: Stage, op: Operation, ctx: Context): Promise<Sharp> {
  const image = stage.image;
  switch (op.op) {
    case 'resize': {
      if (op.scale !== undefined) {
        const { width, height } = predictSize(op, stage);
        return image.resize(width, height, { fit: 'fill', withoutEnlargement: op.withoutEnlargement });
      }
      return image.resize({
        width: op.width,
        height: op.height,
        fit: op.fit,
        withoutEnlargement: op.withoutEnlargement,
        ...(op.background ? { background: op.background } : {}),
      });
    }
    case 'crop':
      if (op.x !== undefined && op.y !== undefined) {
        return image.extract({ left: op.x, top: op.y, width: op.width, height: op.height });
      }
      return cropWindow(image, op, stage);
    case 'rotate':
      return image.rotate(op.angle, op.background ? { background: op.background } : {});
    case 'flip':
      return image.flip();
    case 'mirror':
      return image.flop();
    case 'grayscale':
      return image.grayscale();
    case 'sepia':
      return image.recomb(SEPIA);
    case 'blur':
      return image.blur(op.sigma);
    case 'sharpen':
      return op.sigma !== undefined ? image.sharpen({ sigma: op.sigma }) : image.sharpen();
    case 'modulate':
      return image.modulate({ brightness: op.brightness, saturation: op.saturation, hue: op.hue });
    case 'contrast':
      // Stretch around mid-grey; sharp's linear leaves alpha alone.
      return image.linear(op.factor, -(128 * op.factor) + 128);
    case 'watermark':
      return image.composite([
        { input: await watermarkFor(op, stage, ctx), gravity: op.gravity ?? 'southeast' },
      ]);
    case 'trim':
      return image.trim({ threshold: op.threshold, ...(op.background ? { background: op.background } : {}) });
    case 'extend':
      return image.extend({
        top: op.top ?? 0,
        right: op.right ?? 0,
        bottom: op.bottom ?? 0,
        left: op.left ?? 0,
        extendWith: op.extendWith ?? 'background',
        ...(op.background ? { background: op.background } : {}),
      });
    case 'roundCorners':
      return image.ensureAlpha().composite([{ input: roundedMask(op, stage), blend: 'dest-in' }]);
    case 'flatten':
      return image.flatten({ background: op.background ?? '#ffffff' });
    case 'tint':
      return image.tint(op.color);
    case 'negate':
      return image.negate({ alpha: false });
    case 'normalize':
      return image.normalise();
    case 'frame':
      return image; // applied at decode (see render)
  }
}

/** An opaque rounded rectangle the size of the stage; `dest-in` keeps the image only where it is. */
function roundedMask(op: RoundCornersOperation, stage: { width: number; height: number }): Buffer {
  const { width, height } = stage;
  const r = cornerRadius(op, width, height);
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<rect x="0" y="0" width="${width}" height="${height}" rx="${r}" ry="${r}" fill="#fff"/></svg>`,
  );
}

/** The radius in px: percent of the shorter side, and never more than half of it. */
export function cornerRadius(op: RoundCornersOperation, width: number, height: number): number {
  const half = Math.min(width, height) / 2;
  const px = (op.unit ?? 'px') === 'percent' ? (Math.min(width, height) * op.radius) / 100 : op.radius;
  return Math.min(px, half);
}

/**
 * A gravity crop cuts a window out of the stage at its current size, never
 * scaling it (Cloudinary's c_crop, imgproxy's crop); the window's size is
 * `cropWindowSize`.
 *
 * Compass gravities: a plain extract at the gravity's offset.
 *
 * attention / entropy: sharp runs libvips' smartcrop only inside
 * resize(fit: 'cover'), which first scales the image until one side matches
 * the window and so would shrink it. `withoutReduction` pins that scale at 1
 * (the window is clamped to the image, so the scale is never an enlargement),
 * and sharp goes straight to vips_smartcrop(width, height) on the full-size
 * stage: the interest search runs on the pixels we keep, in one pass, with no
 * resampling.
 */
function cropWindow(image: Sharp, op: CropOperation, stage: { width: number; height: number }): Sharp {
  const { width, height } = cropWindowSize(op, stage.width, stage.height);
  const gravity = op.gravity ?? 'center';
  if (gravity === 'attention' || gravity === 'entropy') {
    return image.resize(width, height, { fit: 'cover', position: sharp.strategy[gravity], withoutReduction: true });
  }
  const [dx, dy] = [stage.width - width, stage.height - height];
  const left = gravity.endsWith('west') ? 0 : gravity.endsWith('east') ? dx : Math.floor(dx / 2);
  const top = gravity.startsWith('north') ? 0 : gravity.startsWith('south') ? dy : Math.floor(dy / 2);
  return image.extract({ left, top, width, height });
}

/**
 * A gravity crop's window on a `W` × `H` image. A window larger than the image
 * on a side is clamped to the image on that side rather than refused (as
 * imgproxy does): the crop keeps at most that much and never enlarges.
 */
function cropWindowSize(op: CropOperation, W: number, H: number): { width: number; height: number } {
  return { width: Math.min(op.width, W), height: Math.min(op.height, H) };
}

async function watermarkFor(op: WatermarkOperation, stage: Stage, ctx: Context): Promise<Buffer> {
  const key = `${JSON.stringify(op)}@${stage.width}x${stage.height}`;
  const cached = ctx.watermarks.get(key);
  if (cached) return cached;
  let image: Buffer | undefined;
  if (op.imageId !== undefined) {
    image = ctx.options.watermarkImages?.[op.imageId] ?? ctx.options.watermarkImages?.[op.imageId.toLowerCase()];
    if (!image) throw new RenderSpecException(`The watermark image ${op.imageId} is not available.`);
  }
  const built = await buildWatermark(
    { ...op, opacity: op.opacity ?? 0.5, size: op.size ?? 20 },
    stage.width,
    stage.height,
    image,
  );
  ctx.watermarks.set(key, built);
  return built;
}

/**
 * The size an op will produce from `stage`'s current size, so limits are
 * checked before the work is done. Also where a spec meets an image it does
 * not fit: an explicit crop region outside the image is refused (a gravity
 * crop's window is clamped instead, see `cropWindowSize`).
 */
function predictSize(op: Operation, stage: { width: number; height: number }): { width: number; height: number } {
  const W = stage.width;
  const H = stage.height;
  switch (op.op) {
    case 'resize':
      return predictResize(op, W, H);
    case 'crop':
      if (op.x === undefined || op.y === undefined) return cropWindowSize(op, W, H);
      if (op.x + op.width > W || op.y + op.height > H) {
        throw new RenderSpecException(
          `The crop region ${op.width}x${op.height}+${op.x}+${op.y} lies outside the ${W}x${H} image.`,
        );
      }
      return { width: op.width, height: op.height };
    case 'rotate': {
      const angle = ((op.angle % 360) + 360) % 360;
      if (angle % 90 === 0) return angle % 180 === 0 ? { width: W, height: H } : { width: H, height: W };
      const r = (angle * Math.PI) / 180;
      const [c, s] = [Math.abs(Math.cos(r)), Math.abs(Math.sin(r))];
      return { width: Math.ceil(W * c + H * s), height: Math.ceil(W * s + H * c) };
    }
    case 'extend':
      return { width: W + (op.left ?? 0) + (op.right ?? 0), height: H + (op.top ?? 0) + (op.bottom ?? 0) };
    default: // trim's result is at most W × H; the render materialises it to learn the real size

      return { width: W, height: H };
  }
}

function predictResize(op: ResizeOperation, W: number, H: number): { width: number; height: number } {
  const atLeast1 = (n: number) => Math.max(1, Math.round(n));
  let width: number;
  let height: number;
  if (op.scale !== undefined) {
    [width, height] = [atLeast1((W * op.scale) / 100), atLeast1((H * op.scale) / 100)];
  } else if (op.width !== undefined && op.height !== undefined) {
    const fit = op.fit ?? 'inside';
    if (fit === 'inside' || fit === 'outside') {
      const r = fit === 'inside' ? Math.min(op.width / W, op.height / H) : Math.max(op.width / W, op.height / H);
      [width, height] = [atLeast1(W * r), atLeast1(H * r)];
    } else {
      [width, height] = [op.width, op.height];
    }
  } else if (op.width !== undefined) {
    [width, height] = [op.width, atLeast1((H * op.width) / W)];
  } else {
    const h = op.height ?? H;
    [width, height] = [atLeast1((W * h) / H), h];
  }
  if (op.withoutEnlargement && (width > W || height > H)) {
    return { width: Math.min(width, W), height: Math.min(height, H) };
  }
  return { width, height };
}

/** What the size checks read: the limits and how many frames the output has. */
type SizeLimits = { options: Pick<RenderOptions, 'maxInputPixels' | 'maxOutputPixels'>; frames: number };

/**
 * Whether `spec` can be rendered from an image of this size, decided from the
 * stored dimensions alone with the renderer's own size prediction and limits, so
 * a spec that cannot fit the image is refused when it is submitted rather than
 * becoming a failed job. Throws what the render would: `spec_not_applicable`
 * (an explicit crop outside the image) or `image_too_large` (the output, or an
 * intermediate, over the limits).
 */
export function checkSpecFits(
  spec: TransformationSpec,
  image: { format: InputFormat; width: number; height: number; pages: number },
  limits: Pick<RenderOptions, 'maxInputPixels' | 'maxOutputPixels' | 'maxOutputFrames'>,
): void {
  const canonical = canonicalSpec(spec, image.format);
  const [first, ...rest] = canonical.operations;
  const frame: FrameOperation | undefined = first?.op === 'frame' ? first : undefined;
  if (frame?.index !== undefined && frame.index >= image.pages) {
    throw new RenderSpecException(`The image has ${image.pages} frame(s); frame ${frame.index} does not exist.`);
  }
  const animated =
    frame?.index === undefined && image.pages > 1 && isAnimatedFormat(image.format) && isAnimatedFormat(canonical.output.format);
  if (animated) checkFrameCount(image.pages, limits);
  const ctx: SizeLimits = { options: limits, frames: animated ? image.pages : 1 };
  let stage = { width: image.width, height: image.height };
  for (const op of frame ? rest : canonical.operations) {
    stage = predictSize(op, stage);
    checkIntermediateSize(stage.width, stage.height, ctx);
  }
  checkOutputSize(stage.width, stage.height, ctx);
}

/** An animated output has at most MAX_OUTPUT_FRAMES frames; a `frame` op picks one instead. */
function checkFrameCount(frames: number, options: Pick<RenderOptions, 'maxOutputFrames'>): void {
  const max = options.maxOutputFrames ?? DEFAULT_MAX_OUTPUT_FRAMES;
  if (frames > max) {
    throw new ImageTooLargeException(
      `The animation has ${frames} frames; an animated output may have at most ${max}. Pick one with a frame operation.`,
    );
  }
}

/** Final output: ≤ 8192 px a side and ≤ MAX_OUTPUT_PIXELS (over all frames). */
function checkOutputSize(width: number, height: number, ctx: SizeLimits): void {
  if (width > MAX_OUTPUT_SIDE || height > MAX_OUTPUT_SIDE) {
    throw new ImageTooLargeException(
      `The output would be ${width}x${height}; the limit is ${MAX_OUTPUT_SIDE} px a side. Add a resize.`,
    );
  }
  const pixels = width * height * ctx.frames;
  if (pixels > ctx.options.maxOutputPixels) {
    throw new ImageTooLargeException(
      `The output would have ${pixels} pixels; the limit is ${ctx.options.maxOutputPixels}.`,
    );
  }
}

/** Intermediates may exceed 8192 px (a crop may follow) but not the memory budget of the larger limit. */
function checkIntermediateSize(width: number, height: number, ctx: SizeLimits): void {
  const budget = Math.max(ctx.options.maxInputPixels, ctx.options.maxOutputPixels);
  if (width * height * ctx.frames > budget) {
    throw new ImageTooLargeException(`An intermediate result would be ${width}x${height}, more pixels than allowed.`);
  }
}

function decodeOptions(ctx: Context): SharpOptions {
  return {
    failOn: DECODE_FAIL_ON,
    limitInputPixels: ctx.options.maxInputPixels,
    autoOrient: true,
    ...(ctx.page !== undefined ? { page: ctx.page } : {}),
  };
}

/**
 * The colour of a stage's or output's pixels. By default sharp converts to sRGB
 * from the embedded profile (CMYK with or without one, Display P3, ProPhoto,
 * greyscale with a profile, 16-bit) and writes no profile: untagged is sRGB on
 * the web. `keepProfile` keeps the input's pixels and profile instead.
 */
function withProfile(image: Sharp, keepProfile: boolean): Sharp {
  return keepProfile ? image.keepIccProfile() : image;
}

/** A frame as 8-bit sRGB + alpha, whatever the chain did to its bands (grayscale gives one). */
async function toRgba(image: Sharp): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await image.toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 4) return { data, width: info.width, height: info.height };
  const again = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: again.data, width: again.info.width, height: again.info.height };
}

interface AnimationOptions {
  loop?: number;
  delay?: number[];
}

/**
 * Largest output that `compress` encodes to AVIF at effort 4. Measured on photo-like
 * input, quality 50, 2 cores: 4000×3000 → effort 3: 3.8 s, 449 KB; effort 4: 15.7 s,
 * 413 KB. 8000×6000 → effort 3: 16.0 s, 1786 KB; effort 4: 63.7 s, 1646 KB. Past
 * 12 MP, effort 4's 8% smaller file would hold a worker for a minute or more.
 */
export const AVIF_COMPRESS_MAX_PIXELS = 12_000_000;

export function avifEffort(compress: boolean, pixels: number): number {
  return compress && pixels <= AVIF_COMPRESS_MAX_PIXELS ? 4 : 3;
}

/**
 * Encoder settings per format. `compress` = smallest file at that quality
 * (SPEC §4): mozjpeg, palette PNG at max zlib effort, max WebP effort. AVIF
 * effort was measured on photo-like 2048×1536 input (quality 50, 2 cores):
 * effort 2 → 3.4 s, 177 KB; effort 3 → 4.0 s, 119 KB; effort 4 → 13.8 s, 109 KB;
 * effort 6 took ~100 s at 2000×1500. So 3 by default (a third smaller than 2 for
 * about the same time) and 4 when compressing; higher efforts are not worth a worker.
 * `pixels` is the output's size (all frames), which bounds effort 4 (`avifEffort`).
 */
function encode(
  image: Sharp,
  output: CanonicalOutputSpec,
  animation: AnimationOptions,
  pixels: number,
  keepProfile = true,
): Sharp {
  // Default sharp output strips all metadata (EXIF, GPS, XMP, IPTC); at most the ICC profile is kept (withProfile).
  const img = withProfile(image, output.keepProfile === true && keepProfile);
  const compress = output.compress ?? false;
  const anim = {
    ...(animation.loop !== undefined ? { loop: animation.loop } : {}),
    ...(animation.delay ? { delay: animation.delay } : {}),
  };
  switch (output.format) {
    case 'jpeg':
      return img
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: output.quality, mozjpeg: compress, progressive: output.progressive ?? false });
    case 'png':
      return img.png({
        progressive: output.progressive ?? false,
        ...(compress ? { palette: true, quality: output.quality, effort: 10, compressionLevel: 9 } : {}),
      });
    case 'webp':
      return img.webp({ quality: output.quality, lossless: output.lossless ?? false, effort: compress ? 6 : 4, ...anim });
    case 'avif':
      return img.avif({ quality: output.quality, lossless: output.lossless ?? false, effort: avifEffort(compress, pixels) });
    case 'gif':
      return img.gif({ effort: compress ? 10 : 7, ...anim });
  }
}

function result(data: Buffer, format: OutputFormat, width: number, height: number, pages: number): RenderResult {
  return { data, format, mimeType: outputMimeType(format), width, height, bytes: data.length, pages };
}

/**
 * The listing thumbnail (SPEC §3): 256 px inside, WebP q75, first frame only,
 * never enlarged. Converted to sRGB (thumbnails favour size over gamut).
 */
export async function renderThumbnail(
  input: Buffer,
  inputFormat: InputFormat,
  options: { maxInputPixels?: number; timeoutSeconds?: number } = {},
): Promise<RenderResult> {
  // First frame for every format: sharp reads page 0 unless asked otherwise.
  try {
    if (inputFormat === 'heic') {
      input = await decodableInput(input, {
        maxInputPixels: options.maxInputPixels ?? 268_402_689, // sharp's own default limit
        timeoutSeconds: options.timeoutSeconds,
      });
    }
    const { data, info } = await sharp(input, {
      failOn: DECODE_FAIL_ON,
      limitInputPixels: options.maxInputPixels ?? true,
      autoOrient: true,
    })
      .timeout({ seconds: options.timeoutSeconds ?? DEFAULT_PIPELINE_TIMEOUT_SECONDS })
      .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer({ resolveWithObject: true });
    return result(data, 'webp', info.width, info.height, 1);
  } catch (e) {
    throw toDecodeError(e);
  }
}

/**
 * Several derivatives of one original (eager specs): the original is decoded
 * and auto-oriented once into an uncompressed intermediate and every spec
 * renders from that. Animated input (and a single spec) just uses `render`.
 * Results are in the order of `specs`; the first failure rejects.
 */
export async function renderMany(
  input: Buffer,
  specs: TransformationSpec[],
  options: RenderOptions,
): Promise<RenderResult[]> {
  // One shared intermediate holds one colour treatment: sRGB for all, or the input's profile for all.
  const keeps = specs.map((spec) => spec.output?.keepProfile === true);
  const mixed = keeps.some((k) => k) && keeps.some((k) => !k);
  if (specs.length <= 1 || isAnimatedFormat(options.inputFormat) || mixed) {
    const results: RenderResult[] = [];
    for (const spec of specs) results.push(await render(input, spec, options));
    return results;
  }
  let decoded: Buffer;
  try {
    if (options.inputFormat === 'heic') {
      input = await decodableInput(input, { maxInputPixels: options.maxInputPixels, timeoutSeconds: options.timeoutSeconds });
    }
    const image = sharp(input, { failOn: DECODE_FAIL_ON, limitInputPixels: options.maxInputPixels, autoOrient: true })
      .timeout({ seconds: options.timeoutSeconds ?? DEFAULT_PIPELINE_TIMEOUT_SECONDS });
    decoded = await withProfile(image, keeps[0])
      .tiff({ compression: 'none' })
      .toBuffer();
  } catch (e) {
    throw toDecodeError(e);
  }
  const results: RenderResult[] = [];
  for (const spec of specs) results.push(await render(decoded, spec, options));
  return results;
}
