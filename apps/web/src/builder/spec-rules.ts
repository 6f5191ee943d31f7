// The transformation spec of SPEC §4 as the builder edits it: each operation's fields, their ranges,
// and the two forms the API takes (JSON body and the /transform query string).
// Colours and the newer operations' limits come from libs/imaging itself (plain modules, no sharp),
// so the builder accepts what the API accepts.
import { parseColor } from '../../../../libs/imaging/src/spec/color.util';
import {
  EXTEND_WITH,
  FRAME_SELECTIONS,
  MAX_EXTEND,
  MAX_FRAME_INDEX,
  MAX_OUTPUT_SIDE,
  RADIUS_UNITS,
} from '../../../../libs/imaging/src/spec/transformation-spec.types';

export type FieldKind = 'int' | 'number' | 'text' | 'enum' | 'color';
export interface FieldRule {
  name: string;
  kind: FieldKind;
  min?: number;
  max?: number;
  maxLength?: number;
  options?: string[];
  label: string;
}
export const GRAVITIES = ['center', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest'];
export const OPERATIONS: Record<string, FieldRule[]> = {
  resize: [
    { name: 'width', kind: 'int', min: 1, max: 8192, label: 'Width (px)' },
    { name: 'height', kind: 'int', min: 1, max: 8192, label: 'Height (px)' },
    { name: 'fit', kind: 'enum', options: ['inside', 'cover', 'contain', 'fill', 'outside'], label: 'Fit' },
  ],
  crop: [
    { name: 'width', kind: 'int', min: 1, max: 8192, label: 'Width (px)' },
    { name: 'height', kind: 'int', min: 1, max: 8192, label: 'Height (px)' },
    { name: 'gravity', kind: 'enum', options: [...GRAVITIES, 'attention', 'entropy'], label: 'Gravity' },
  ],
  rotate: [{ name: 'angle', kind: 'number', min: -360, max: 360, label: 'Angle (°)' }],
  flip: [],
  mirror: [],
  grayscale: [],
  sepia: [],
  blur: [{ name: 'sigma', kind: 'number', min: 0.3, max: 100, label: 'Sigma' }],
  sharpen: [],
  modulate: [
    { name: 'brightness', kind: 'number', min: 0, max: 5, label: 'Brightness' },
    { name: 'saturation', kind: 'number', min: 0, max: 5, label: 'Saturation' },
    { name: 'hue', kind: 'number', min: -360, max: 360, label: 'Hue (°)' },
  ],
  contrast: [{ name: 'factor', kind: 'number', min: 0, max: 5, label: 'Factor' }],
  watermark: [
    { name: 'text', kind: 'text', maxLength: 200, label: 'Text' },
    { name: 'gravity', kind: 'enum', options: GRAVITIES, label: 'Gravity' },
    { name: 'opacity', kind: 'number', min: 0, max: 1, label: 'Opacity' },
  ],
  trim: [
    { name: 'threshold', kind: 'int', min: 0, max: 255, label: 'Threshold' },
    { name: 'background', kind: 'color', label: 'Border colour' },
  ],
  extend: [
    { name: 'all', kind: 'int', min: 0, max: MAX_EXTEND, label: 'All sides (px)' },
    { name: 'top', kind: 'int', min: 0, max: MAX_EXTEND, label: 'Top (px)' },
    { name: 'right', kind: 'int', min: 0, max: MAX_EXTEND, label: 'Right (px)' },
    { name: 'bottom', kind: 'int', min: 0, max: MAX_EXTEND, label: 'Bottom (px)' },
    { name: 'left', kind: 'int', min: 0, max: MAX_EXTEND, label: 'Left (px)' },
    { name: 'extendWith', kind: 'enum', options: [...EXTEND_WITH], label: 'Fill with' },
    { name: 'background', kind: 'color', label: 'Background' },
  ],
  roundCorners: [
    { name: 'radius', kind: 'int', min: 1, max: MAX_OUTPUT_SIDE, label: 'Radius' },
    { name: 'unit', kind: 'enum', options: [...RADIUS_UNITS], label: 'Unit' },
  ],
  flatten: [{ name: 'background', kind: 'color', label: 'Background' }],
  tint: [{ name: 'color', kind: 'color', label: 'Colour' }],
  negate: [],
  normalize: [],
  frame: [
    { name: 'index', kind: 'int', min: 0, max: MAX_FRAME_INDEX, label: 'Frame index' },
    { name: 'frames', kind: 'enum', options: [...FRAME_SELECTIONS], label: 'Frames' },
  ],
};
/** Fields an operation needs, at least one of them. */
const REQUIRED_ANY: Record<string, string[]> = {
  resize: ['width', 'height'],
  crop: ['width', 'height'],
  blur: ['sigma'],
  rotate: ['angle'],
  contrast: ['factor'],
  watermark: ['text'],
  extend: ['all', 'top', 'right', 'bottom', 'left'],
  roundCorners: ['radius'],
  tint: ['color'],
  frame: ['index', 'frames'],
};
export const FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif'];
export const MAX_OPERATIONS = 10;

/** One operation as typed in the form: every value a string until validated. */
export interface DraftOperation {
  key: number;
  op: string;
  values: Record<string, string>;
}
export interface DraftSpec {
  operations: DraftOperation[];
  format: string;
  quality: string;
  /** `output.keepProfile`: keep the input's ICC profile (a wide gamut stays wide) instead of converting to sRGB. */
  keepProfile?: boolean;
}
export type SpecErrors = Record<string, string>;

function checkField(rule: FieldRule, raw: string): string | null {
  if (rule.kind === 'text') return raw.length > (rule.maxLength ?? Infinity) ? `at most ${rule.maxLength} characters` : null;
  if (rule.kind === 'enum') return rule.options!.includes(raw) ? null : `one of ${rule.options!.join(', ')}`;
  if (rule.kind === 'color') return parseColor(raw) ? null : 'a colour: #rgb, #rrggbb, #rrggbbaa or rgb(…)';
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) return 'a number';
  if (rule.kind === 'int' && !Number.isInteger(n)) return 'a whole number';
  if (n < rule.min! || n > rule.max!) return `between ${rule.min} and ${rule.max}`;
  return null;
}

/** Rules between fields, or about the operation's place in the chain, as the API's DTOs check them. */
function crossFieldError(o: DraftOperation, i: number): [field: string, message: string] | null {
  const v = (f: string): string => o.values[f] ?? '';
  switch (o.op) {
    case 'roundCorners':
      return v('unit') === 'percent' && Number(v('radius')) > 50 ? ['radius', 'must be at most 50 in percent (50 makes a circle)'] : null;
    case 'extend':
      return v('background') && v('extendWith') && v('extendWith') !== 'background' ? ['background', `does not apply when filling with ${v('extendWith')}`] : null;
    case 'frame':
      if (v('index') && v('frames')) return ['index', 'or Frames: give one, not both'];
      return i > 0 ? ['index', 'frame must be the first operation (it picks what is decoded)'] : null;
    default:
      return null;
  }
}

/** Every problem of a draft, keyed `operations.{i}.{field}` or `output.{field}` like the API's 400. */
export function validateSpec(draft: DraftSpec): SpecErrors {
  const errors: SpecErrors = {};
  if (draft.operations.length > MAX_OPERATIONS) errors.operations = `at most ${MAX_OPERATIONS} operations`;
  draft.operations.forEach((o, i) => {
    const rules = OPERATIONS[o.op];
    if (!rules) {
      errors[`operations.${i}.op`] = 'unknown operation';
      return;
    }
    for (const rule of rules) {
      const raw = o.values[rule.name] ?? '';
      if (raw === '') continue;
      const problem = checkField(rule, raw);
      if (problem) errors[`operations.${i}.${rule.name}`] = `must be ${problem}`;
    }
    const need = REQUIRED_ANY[o.op];
    if (need && need.every((f) => (o.values[f] ?? '') === '')) errors[`operations.${i}.${need[0]}`] = need.length > 1 ? `give ${need.join(' or ')}` : 'is required';
    const across = crossFieldError(o, i);
    if (across && !errors[`operations.${i}.${across[0]}`]) errors[`operations.${i}.${across[0]}`] = across[1];
  });
  if (draft.format && !FORMATS.includes(draft.format)) errors['output.format'] = `must be one of ${FORMATS.join(', ')}`;
  if (draft.quality !== '') {
    const q = Number(draft.quality);
    if (!Number.isInteger(q) || q < 1 || q > 100) errors['output.quality'] = 'must be a whole number between 1 and 100';
  }
  return errors;
}

/** The JSON body of POST /v1/images/{id}/transformations (only for a draft without errors). */
export function toSpec(draft: DraftSpec): { operations: Record<string, unknown>[]; output?: Record<string, unknown> } {
  const operations = draft.operations.map((o) => {
    const op: Record<string, unknown> = { op: o.op };
    for (const rule of OPERATIONS[o.op]) {
      const raw = o.values[rule.name] ?? '';
      if (raw === '') continue;
      op[rule.name] = rule.kind === 'int' || rule.kind === 'number' ? Number(raw) : raw;
    }
    return op;
  });
  const output: Record<string, unknown> = {};
  if (draft.format) output.format = draft.format;
  if (draft.quality !== '') output.quality = Number(draft.quality);
  if (draft.keepProfile) output.keepProfile = true;
  return Object.keys(output).length ? { operations, output } : { operations };
}

/** The same spec in the query syntax of GET /v1/images/{id}/transform (applied in query order). */
export function toQuery(draft: DraftSpec): string {
  const q: [string, string][] = [];
  const v = (o: DraftOperation, f: string): string => o.values[f] ?? '';
  for (const o of draft.operations) {
    switch (o.op) {
      case 'resize':
        q.push(['resize', `${v(o, 'width')}x${v(o, 'height')}`]);
        if (v(o, 'fit')) q.push(['fit', v(o, 'fit')]);
        break;
      case 'crop':
        q.push(['crop', `${v(o, 'width')}x${v(o, 'height')}${v(o, 'gravity') ? `:${v(o, 'gravity')}` : ''}`]);
        break;
      case 'rotate':
        q.push(['rotate', v(o, 'angle')]);
        break;
      case 'flip':
        q.push(['flip', 'vertical']);
        break;
      case 'mirror':
      case 'grayscale':
      case 'sepia':
      case 'sharpen':
        q.push([o.op, 'true']);
        break;
      case 'blur':
        q.push(['blur', v(o, 'sigma')]);
        break;
      case 'contrast':
        q.push(['contrast', v(o, 'factor')]);
        break;
      case 'modulate':
        if (v(o, 'brightness')) q.push(['brightness', v(o, 'brightness')]);
        if (v(o, 'saturation')) q.push(['saturation', v(o, 'saturation')]);
        break;
      case 'watermark':
        q.push(['watermark', `text:${v(o, 'text')}`]);
        break;
      case 'trim':
        // `threshold:colour`; the API's default threshold is 10.
        q.push(['trim', v(o, 'background') ? `${v(o, 'threshold') || 10}:${queryColor(v(o, 'background'))}` : v(o, 'threshold') || 'true']);
        break;
      case 'extend': {
        const side = (f: string): string => v(o, f) || v(o, 'all') || '0';
        const sides = ['top', 'right', 'bottom', 'left'].some((f) => v(o, f)) ? ['top', 'right', 'bottom', 'left'].map(side).join(',') : v(o, 'all');
        const fill = v(o, 'extendWith') && v(o, 'extendWith') !== 'background' ? v(o, 'extendWith') : v(o, 'background') && queryColor(v(o, 'background'));
        q.push(['extend', fill ? `${sides}:${fill}` : sides]);
        break;
      }
      case 'roundCorners':
        q.push(['roundCorners', `${v(o, 'radius')}${v(o, 'unit') === 'percent' ? '%' : ''}`]);
        break;
      case 'flatten':
        q.push(['flatten', v(o, 'background') ? queryColor(v(o, 'background')) : 'true']);
        break;
      case 'tint':
        q.push(['tint', queryColor(v(o, 'color'))]);
        break;
      case 'negate':
      case 'normalize':
        q.push([o.op, 'true']);
        break;
      case 'frame':
        q.push(['frame', v(o, 'index') || v(o, 'frames')]);
        break;
    }
  }
  if (draft.format) q.push(['format', draft.format]);
  if (draft.quality) q.push(['quality', draft.quality]);
  if (draft.keepProfile) q.push(['keepProfile', 'true']);
  // `,` and `:` separate parts of a value (`extend=10,20:ffffff`) and are legal in a query as they are.
  return q.map(([k, val]) => `${k}=${encodeURIComponent(val).replace(/%2C/g, ',').replace(/%3A/g, ':')}`).join('&');
}

/** A colour as the query syntax writes it: `#` would start the fragment, so hex goes bare (`ffffff`). */
const queryColor = (c: string): string => (/^#[0-9a-f]+$/i.test(c.trim()) ? c.trim().slice(1) : c.trim());

/** Operations whose query form would lose a field (the preview then renders through the JSON API). */
export function queryCanExpress(draft: DraftSpec): boolean {
  return draft.operations.every((o) => !(o.op === 'modulate' && o.values.hue) && !(o.op === 'watermark' && (o.values.gravity || o.values.opacity)));
}
