import { createHash } from 'node:crypto';
import { normalizeColor } from './color.util';
import { DEFAULT_QUALITY, defaultOutputFormat } from './output-format.util';
import { InputFormat, Operation, OutputSpec, TransformationSpec } from './transformation-spec.types';

/**
 * Bump when the renderer's output for the same spec changes (new encoder
 * settings, a fixed op): it is part of every specHash, so old derivatives are
 * simply not found and get re-rendered under new keys.
 */
// 2: AVIF encoder effort 3 (4 with compress).
// 3: a gravity crop cuts a width × height window at the current size; it used to scale the image to cover it.
export const RENDERER_VERSION = 3;

/** A fully explicit output spec: the format is always set. */
export type CanonicalOutputSpec = OutputSpec & { format: NonNullable<OutputSpec['format']> };
export interface CanonicalTransformationSpec extends TransformationSpec {
  output: CanonicalOutputSpec;
}

/**
 * The spec with every default filled in, values that cannot affect the output
 * dropped, colours and angles normalised and keys sorted, so that specs which
 * render the same bytes compare (and hash) equal. `inputFormat` decides the
 * default output format. The renderer reads this form too.
 */
export function canonicalSpec(spec: TransformationSpec, inputFormat: InputFormat): CanonicalTransformationSpec {
  const canonical: CanonicalTransformationSpec = {
    operations: (spec.operations ?? []).map(canonicalOperation),
    output: canonicalOutput(spec.output ?? {}, inputFormat),
  };
  return sortKeys(canonical);
}

/** sha256 (hex, 32 chars = 128 bits) of the canonical spec and the renderer version. */
export function specHash(spec: TransformationSpec, inputFormat: InputFormat): string {
  const json = JSON.stringify({ v: RENDERER_VERSION, spec: canonicalSpec(spec, inputFormat) });
  return createHash('sha256').update(json).digest('hex').slice(0, 32);
}

function canonicalOperation(op: Operation): Operation {
  switch (op.op) {
    case 'resize': {
      const size = op.scale !== undefined ? { scale: op.scale } : { width: op.width, height: op.height };
      return dropUndefined({
        op: 'resize',
        ...size,
        fit: op.fit ?? 'inside',
        withoutEnlargement: op.withoutEnlargement ?? false,
        background: color(op.background),
      });
    }
    case 'crop':
      return op.x !== undefined || op.y !== undefined
        ? { op: 'crop', x: op.x, y: op.y, width: op.width, height: op.height }
        : { op: 'crop', width: op.width, height: op.height, gravity: op.gravity ?? 'center' };
    case 'rotate':
      return dropUndefined({ op: 'rotate', angle: normalizeDegrees(op.angle), background: color(op.background) });
    case 'modulate':
      return {
        op: 'modulate',
        brightness: op.brightness ?? 1,
        saturation: op.saturation ?? 1,
        hue: normalizeDegrees(op.hue ?? 0),
      };
    case 'watermark': {
      const common = { gravity: op.gravity ?? 'southeast', opacity: op.opacity ?? 0.5, size: op.size ?? 20 } as const;
      return op.imageId !== undefined
        ? { op: 'watermark', imageId: op.imageId.toLowerCase(), ...common }
        : { op: 'watermark', text: op.text, color: color(op.color) ?? '#ffffff', ...common };
    }
    case 'sharpen':
      return dropUndefined({ op: 'sharpen', sigma: op.sigma });
    case 'trim':
      return dropUndefined({ op: 'trim', threshold: op.threshold ?? 10, background: color(op.background) });
    case 'extend': {
      const extendWith = op.extendWith ?? 'background';
      return dropUndefined({
        op: 'extend',
        top: op.top ?? op.all ?? 0,
        right: op.right ?? op.all ?? 0,
        bottom: op.bottom ?? op.all ?? 0,
        left: op.left ?? op.all ?? 0,
        extendWith,
        background: extendWith === 'background' ? color(op.background ?? '#000000') : undefined,
      });
    }
    case 'roundCorners':
      return { op: 'roundCorners', radius: op.radius, unit: op.unit ?? 'px' };
    case 'flatten':
      return { op: 'flatten', background: color(op.background ?? '#ffffff') };
    case 'tint':
      return { op: 'tint', color: normalizeColor(op.color) };
    case 'frame':
      return op.frames === 'all' ? { op: 'frame', frames: 'all' } : { op: 'frame', index: op.index ?? 0 };
    default:
      return { ...op };
  }
}

function canonicalOutput(output: OutputSpec, inputFormat: InputFormat): CanonicalOutputSpec {
  const format = output.format ?? defaultOutputFormat(inputFormat);
  const compress = output.compress ?? false;
  const result: CanonicalOutputSpec = { format, compress };
  if (format === 'jpeg' || format === 'webp' || format === 'avif') {
    result.quality = output.quality ?? DEFAULT_QUALITY[format];
  } else if (format === 'png' && compress) {
    // Only palette (compress) PNG is lossy; plain PNG ignores quality.
    result.quality = output.quality ?? 100;
  }
  if (format === 'webp' || format === 'avif') result.lossless = output.lossless ?? false;
  if (format === 'jpeg' || format === 'png') result.progressive = output.progressive ?? false;
  // Only when set: specs from before the option hash as they did (the default converts to sRGB).
  if (output.keepProfile === true) result.keepProfile = true;
  return result;
}

function color(value: string | undefined): string | undefined {
  return value === undefined ? undefined : normalizeColor(value);
}

function normalizeDegrees(angle: number): number {
  const a = angle % 360;
  return a < 0 ? a + 360 : a === 0 ? 0 : a; // also turns -0 into 0
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    ) as T;
  }
  return value;
}
