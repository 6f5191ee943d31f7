import { DomainException, FieldError, ValidationFailedException } from '@pixmill/common';
import { parseSpec } from './parse-spec.util';
import { Operation, TransformationSpec } from './transformation-spec.types';

/**
 * Every query key that makes part of a spec (SPEC §4). The switch in
 * `parseQuerySpec` is checked against this list by the compiler, so the list
 * (which the OpenAPI document of the transform route is tested against) cannot
 * drift from what is parsed.
 */
export const QUERY_SPEC_KEYS = [
  'resize',
  'fit',
  'crop',
  'rotate',
  'flip',
  'mirror',
  'grayscale',
  'sepia',
  'blur',
  'sharpen',
  'brightness',
  'saturation',
  'contrast',
  'watermark',
  'trim',
  'extend',
  'roundCorners',
  'flatten',
  'tint',
  'negate',
  'normalize',
  'frame',
  'format',
  'quality',
  'compress',
  'keepProfile',
] as const;
export type QuerySpecKey = (typeof QUERY_SPEC_KEYS)[number];

/** Query keys the transform endpoint reads itself; they are not part of the spec. */
export const QUERY_CONTROL_KEYS = ['wait', 'webhookUrl'] as const;

const SPEC_KEYS: ReadonlySet<string> = new Set(QUERY_SPEC_KEYS);
const CONTROL_KEYS: ReadonlySet<string> = new Set(QUERY_CONTROL_KEYS);
const isSpecKey = (key: string): key is QuerySpecKey => SPEC_KEYS.has(key);

const NUMBER = /^[+-]?(\d+(\.\d+)?|\.\d+)$/;
const INTEGER = /^\d+$/;
const RESIZE_BOX = /^(\d*)x(\d*)$/;
const RESIZE_SCALE = /^(\d+(?:\.\d+)?)%$/;
/** `+` in a query string decodes to a space, so `crop=300x200+10+20` as typed arrives as `300x200 10 20`: both are read. */
const CROP = /^(\d+)x(\d+)(?:[+ ](\d+)[+ ](\d+)|:([a-z]+))?$/;

/** `extend=20`, `extend=10,20` (vertical, horizontal) or `extend=10,20,30,40` (top, right, bottom, left), then `:mirror`, `:copy`, `:repeat` or `:colour`. */
const EXTEND = /^(\d+)(?:,(\d+)(?:,(\d+),(\d+))?)?(?::(.+))?$/;
const TRIM = /^(\d+)(?::(.+))?$/;
const RADIUS = /^(\d+)(%?)$/;
const BARE_HEX = /^(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/** A colour in a query: `#` must be escaped as %23 there, so bare hex (`ffffff`) is read as `#ffffff`. */
const queryColor = (value: string): string => (BARE_HEX.test(value) ? `#${value}` : value);

type Mutable = Record<string, unknown> & { op: string };

/**
 * Parses the query syntax of SPEC §4 (`resize=300x200&rotate=90&format=webp`)
 * into the same `TransformationSpec` the JSON form gives, operations in query
 * order, then runs it through `parseSpec` so both syntaxes share one set of
 * rules. Errors name the query key (`field: 'resize'`).
 */
export function parseQuerySpec(params: URLSearchParams | Iterable<[string, string]>): TransformationSpec {
  const entries = params instanceof URLSearchParams ? [...params.entries()] : [...params];
  const ops: Mutable[] = [];
  const sources: string[] = []; // the query key each operation came from
  const output: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  const bad = (field: string, message: string) => errors.push({ field, message });
  const push = (key: string, op: Mutable) => {
    ops.push(op);
    sources.push(key);
  };
  let lastResize: Mutable | null = null;
  let leadingFit: string | null = null;

  for (const [key, value] of entries) {
    if (CONTROL_KEYS.has(key)) continue;
    if (!isSpecKey(key)) {
      bad(key, `unknown parameter ${key}`);
      continue;
    }
    switch (key) {
      case 'resize': {
        const box = RESIZE_BOX.exec(value);
        const scale = RESIZE_SCALE.exec(value);
        if (box && (box[1] || box[2])) {
          lastResize = { op: 'resize' };
          if (box[1]) lastResize.width = Number(box[1]);
          if (box[2]) lastResize.height = Number(box[2]);
        } else if (scale) {
          lastResize = { op: 'resize', scale: Number(scale[1]) };
        } else {
          bad(key, 'resize must look like 300x200, 300x, x200 or 50%');
          break;
        }
        push(key, lastResize);
        break;
      }
      case 'fit':
        if (lastResize === null) {
          if (leadingFit !== null) bad(key, 'fit is given twice for one resize');
          leadingFit = value;
        } else if (lastResize.fit !== undefined) {
          bad(key, 'fit is given twice for one resize');
        } else {
          lastResize.fit = value;
        }
        break;
      case 'crop': {
        const m = CROP.exec(value);
        if (!m) {
          bad(key, 'crop must look like 300x200+10+20, 300x200 or 300x200:attention');
          break;
        }
        const op: Mutable = { op: 'crop' };
        if (m[3] !== undefined) Object.assign(op, { x: Number(m[3]), y: Number(m[4]) });
        Object.assign(op, { width: Number(m[1]), height: Number(m[2]) });
        if (m[5] !== undefined) op.gravity = m[5];
        push(key, op);
        break;
      }
      case 'rotate':
        if (NUMBER.test(value)) push(key, { op: 'rotate', angle: Number(value) });
        else bad(key, 'rotate must be a number of degrees');
        break;
      case 'flip':
        if (value === 'vertical') push(key, { op: 'flip' });
        else if (value === 'horizontal') push(key, { op: 'mirror' });
        else bad(key, 'flip must be vertical or horizontal');
        break;
      case 'mirror':
      case 'grayscale':
      case 'sepia':
        if (value === 'true') push(key, { op: key });
        else if (value !== 'false') bad(key, `${key} must be true or false`);
        break;
      case 'blur':
        if (NUMBER.test(value)) push(key, { op: 'blur', sigma: Number(value) });
        else bad(key, 'blur must be a sigma (0.3–100)');
        break;
      case 'sharpen':
        if (value === 'true') push(key, { op: 'sharpen' });
        else if (NUMBER.test(value)) push(key, { op: 'sharpen', sigma: Number(value) });
        else if (value !== 'false') bad(key, 'sharpen must be true or a sigma');
        break;
      case 'brightness':
      case 'saturation': {
        if (!NUMBER.test(value)) {
          bad(key, `${key} must be a number (0–5)`);
          break;
        }
        // brightness=1.2&saturation=0.8 is one modulate, as in the JSON form.
        const last = ops[ops.length - 1];
        if (last?.op === 'modulate' && last[key] === undefined) last[key] = Number(value);
        else push(key, { op: 'modulate', [key]: Number(value) });
        break;
      }
      case 'contrast':
        if (NUMBER.test(value)) push(key, { op: 'contrast', factor: Number(value) });
        else bad(key, 'contrast must be a factor (0–5)');
        break;
      case 'watermark':
        if (value.startsWith('text:')) push(key, { op: 'watermark', text: value.slice('text:'.length) });
        else if (value.startsWith('image:')) push(key, { op: 'watermark', imageId: value.slice('image:'.length) });
        else bad(key, 'watermark must look like text:Hello or image:{imageId}');
        break;
      case 'trim': {
        const m = TRIM.exec(value);
        if (value === 'true') push(key, { op: 'trim' });
        else if (m) push(key, { op: 'trim', threshold: Number(m[1]), ...(m[2] ? { background: queryColor(m[2]) } : {}) });
        else if (value !== 'false') bad(key, 'trim must be true, a threshold (0–255) or threshold:colour (10:ffffff)');
        break;
      }
      case 'extend': {
        const m = EXTEND.exec(value);
        if (!m) {
          bad(key, 'extend must look like 20, 10,20 or 10,20,30,40, optionally followed by :mirror, :copy, :repeat or :colour');
          break;
        }
        const op: Mutable = { op: 'extend' };
        if (m[2] === undefined) op.all = Number(m[1]);
        else if (m[3] === undefined) Object.assign(op, { top: Number(m[1]), bottom: Number(m[1]), right: Number(m[2]), left: Number(m[2]) });
        else Object.assign(op, { top: Number(m[1]), right: Number(m[2]), bottom: Number(m[3]), left: Number(m[4]) });
        const fill = m[5];
        if (fill === 'mirror' || fill === 'copy' || fill === 'repeat') op.extendWith = fill;
        else if (fill !== undefined) op.background = queryColor(fill);
        push(key, op);
        break;
      }
      case 'roundCorners': {
        const m = RADIUS.exec(value);
        if (m) push(key, { op: 'roundCorners', radius: Number(m[1]), ...(m[2] ? { unit: 'percent' } : {}) });
        else bad(key, 'roundCorners must be a radius in px (24) or percent (10%)');
        break;
      }
      case 'flatten':
        if (value === 'true') push(key, { op: 'flatten' });
        else if (value !== 'false') push(key, { op: 'flatten', background: queryColor(value) });
        break;
      case 'tint':
        push(key, { op: 'tint', color: queryColor(value) });
        break;
      case 'negate':
      case 'normalize':
        if (value === 'true') push(key, { op: key });
        else if (value !== 'false') bad(key, `${key} must be true or false`);
        break;
      case 'frame':
        if (INTEGER.test(value)) push(key, { op: 'frame', index: Number(value) });
        else if (value === 'first' || value === 'all') push(key, { op: 'frame', frames: value });
        else bad(key, 'frame must be a frame index (0, 1, …), first or all');
        break;
      case 'keepProfile':
        if (key in output) bad(key, `${key} is given more than once`);
        else if (value === 'true' || value === 'false') output.keepProfile = value === 'true';
        else bad(key, 'keepProfile must be true or false');
        break;
      case 'format':
      case 'quality':
      case 'compress':
        if (key in output) {
          bad(key, `${key} is given more than once`);
        } else if (key === 'format') {
          output.format = value;
        } else if (key === 'quality') {
          if (INTEGER.test(value)) output.quality = Number(value);
          else bad(key, 'quality must be an integer (1–100)');
        } else if (value === 'true' || value === 'false') {
          output.compress = value === 'true';
        } else {
          bad(key, 'compress must be true or false');
        }
        break;
      default: {
        const unhandled: never = key; // a key listed in QUERY_SPEC_KEYS without a case
        throw new Error(`query key ${String(unhandled)} is listed but not parsed`);
      }
    }
  }

  if (leadingFit !== null) {
    const resizes = ops.filter((op) => op.op === 'resize');
    if (resizes.length === 1 && resizes[0].fit === undefined) resizes[0].fit = leadingFit;
    else bad('fit', resizes.length === 0 ? 'fit needs a resize' : 'fit must follow the resize it applies to');
  }
  // Range rules live in parseSpec; run it even after syntax errors so every bad key is listed at once.
  let spec: TransformationSpec | null = null;
  try {
    spec = parseSpec({ operations: ops as unknown as Operation[], output });
  } catch (e) {
    if (!(e instanceof DomainException && e.errors)) throw e;
    errors.push(...e.errors.map((err) => toQueryError(err, ops, sources)));
  }
  if (errors.length > 0 || !spec) throw new ValidationFailedException(dedupe(errors));
  return spec;
}

/** `operations[2].width` → the query key that made operation 2; `output.quality` → `quality`. */
function toQueryError(error: FieldError, ops: Mutable[], sources: string[]): FieldError {
  const opPath = /^operations\[(\d+)\](?:\.(\w+))?$/.exec(error.field);
  if (opPath) {
    const op = ops[Number(opPath[1])];
    const field = opPath[2];
    if (field === 'fit') return { ...error, field: 'fit' };
    if (op?.op === 'modulate' && (field === 'brightness' || field === 'saturation')) return { ...error, field };
    return { ...error, field: sources[Number(opPath[1])] ?? 'operations' };
  }
  if (error.field.startsWith('output.')) return { ...error, field: error.field.slice('output.'.length) };
  return error;
}

/** One entry per query key (`resize=0x0` breaks width and height: one `resize` error). */
function dedupe(errors: FieldError[]): FieldError[] {
  const byField = new Map<string, string[]>();
  for (const e of errors) {
    const messages = byField.get(e.field) ?? [];
    if (!messages.includes(e.message)) messages.push(e.message);
    byField.set(e.field, messages);
  }
  return [...byField].map(([field, messages]) => ({ field, message: messages.join('; ') }));
}
