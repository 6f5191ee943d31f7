import { FieldError, ValidationFailedException } from '@pixmill/common';
import { InputFormat, Operation, OutputFormat, TransformationSpec } from '@pixmill/imaging';

/** Keys of a public URL that are not part of the spec's query syntax (SPEC §8). */
export const PUBLIC_CONTROL_KEYS = ['exp', 'dpr', 'format'] as const;
/** Keys of the authenticated transform route that a public URL may not carry. */
const REFUSED_KEYS = new Set(['wait', 'webhookUrl', 'sig']);

const DPR = /^[1-4](\.\d{1,2})?$/;
const EXP = /^\d{1,12}$/;

/** What a public URL's query says beyond the spec. */
export interface PublicOptions {
  /** Unix seconds after which the URL answers 403 url_expired; null = no expiry. */
  exp: number | null;
  dpr: number;
  /** `format=auto`: the output format comes from `Accept`. */
  autoFormat: boolean;
  /** The query entries that make the spec (SPEC §4 syntax), in order. */
  specEntries: Array<[string, string]>;
}

/** Splits a public URL's query into its own options and the spec's entries. */
export function readPublicOptions(query: URLSearchParams): PublicOptions {
  const errors: FieldError[] = [];
  const options: PublicOptions = { exp: null, dpr: 1, autoFormat: false, specEntries: [] };
  for (const [key, value] of query) {
    if (REFUSED_KEYS.has(key)) {
      errors.push({ field: key, message: `${key} is not accepted on a public URL` });
    } else if (key === 'exp') {
      if (EXP.test(value)) options.exp = Number(value);
      else errors.push({ field: 'exp', message: 'exp must be a time in Unix seconds' });
    } else if (key === 'dpr') {
      const dpr = Number(value);
      if (DPR.test(value) && dpr <= 4) options.dpr = dpr;
      else errors.push({ field: 'dpr', message: 'dpr must be a number from 1 to 4' });
    } else if (key === 'format' && value === 'auto') {
      options.autoFormat = true;
    } else {
      options.specEntries.push([key, value]);
    }
  }
  if (options.autoFormat && options.specEntries.some(([k]) => k === 'format')) {
    errors.push({ field: 'format', message: 'format=auto cannot be combined with another format' });
  }
  if (errors.length) throw new ValidationFailedException(errors);
  return options;
}

/** Whether an `Accept` header names a media type with a q above 0. */
function accepts(accept: string, type: string): boolean {
  for (const part of accept.toLowerCase().split(',')) {
    const [range, ...params] = part.trim().split(';');
    if (range.trim() !== type) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/**
 * `format=auto` (SPEC §8): AVIF when Accept has image/avif, else WebP for image/webp,
 * else JPEG for an opaque image and PNG for one with alpha, so transparency is never
 * flattened. `hasAlpha` is what the upload probe recorded; null (an image stored before
 * it was recorded) keeps the cautious rule: JPEG only for a JPEG input, which cannot
 * carry alpha, PNG for any other.
 */
export function autoFormat(accept: string | undefined, input: InputFormat, hasAlpha: boolean | null): OutputFormat {
  const a = accept ?? '';
  if (accepts(a, 'image/avif')) return 'avif';
  if (accepts(a, 'image/webp')) return 'webp';
  if (hasAlpha === null) return input === 'jpeg' ? 'jpeg' : 'png';
  return hasAlpha ? 'png' : 'jpeg';
}

/** The normalised class of an Accept header, as the CDN keys its cache by (deploy/nginx). */
export function acceptClass(accept: string | undefined): 'avif' | 'webp' | 'other' {
  const a = accept ?? '';
  if (accepts(a, 'image/avif')) return 'avif';
  if (accepts(a, 'image/webp')) return 'webp';
  return 'other';
}

/**
 * Multiplies the spec's pixel sizes by `dpr` (resize width/height, crop window), never
 * beyond the input's size unless a resize asks for enlargement (`withoutEnlargement: false`).
 * Percent sizes (resize scale, watermark size) follow the image and stay as they are.
 */
export function applyDpr(spec: TransformationSpec, dpr: number, input: { width: number; height: number }): TransformationSpec {
  if (dpr === 1) return spec;
  const operations = spec.operations.map((op): Operation => {
    if (op.op === 'resize' && (op.width !== undefined || op.height !== undefined)) {
      const factor = op.withoutEnlargement === false ? dpr : capped(dpr, input, op.width, op.height);
      return { ...op, ...scaled(op.width, op.height, factor) };
    }
    if (op.op === 'crop') {
      const factor = capped(dpr, input, op.width, op.height);
      const size = scaled(op.width, op.height, factor) as { width: number; height: number };
      return op.x === undefined ? { ...op, ...size } : { ...op, ...size, x: Math.round(op.x * factor), y: Math.round((op.y ?? 0) * factor) };
    }
    return op;
  });
  return { ...spec, operations };
}

/** The largest factor ≤ dpr (and ≥ 1) that keeps the sizes within the input. */
function capped(dpr: number, input: { width: number; height: number }, width?: number, height?: number): number {
  let factor = dpr;
  if (width) factor = Math.min(factor, input.width / width);
  if (height) factor = Math.min(factor, input.height / height);
  return Math.max(factor, 1);
}

function scaled(width: number | undefined, height: number | undefined, factor: number): { width?: number; height?: number } {
  const out: { width?: number; height?: number } = {};
  if (width !== undefined) out.width = Math.max(1, Math.round(width * factor));
  if (height !== undefined) out.height = Math.max(1, Math.round(height * factor));
  return out;
}
