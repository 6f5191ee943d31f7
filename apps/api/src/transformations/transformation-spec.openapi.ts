import { getSchemaPath, OpenAPIObject, SchemaObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import {
  DEFAULT_QUALITY,
  MAX_OPERATIONS,
  OPERATION_DTOS,
  OperationName,
  OutputSpecDto,
  TransformationSpecDto,
} from '@pixmill/imaging';
import { MAX_EAGER } from './transformation.limits';

/*
 * The OpenAPI schema of the transformation spec (SPEC §4), derived from the
 * class-validator rules of the spec DTOs in libs/imaging: types, ranges, enums
 * and required fields are read from the validators parseSpec runs, so the
 * document cannot promise what the API refuses. Only prose (descriptions,
 * defaults, examples) is written here; a unit test holds the defaults to
 * canonicalSpec and the examples to parseSpec. libs/imaging stays free of
 * @nestjs/swagger (no lib imports it; the worker does not need it).
 */

interface FieldDoc {
  description?: string;
  default?: unknown;
  example?: unknown;
}
interface ModelDoc {
  description: string;
  example: Record<string, unknown>;
  fields?: Record<string, FieldDoc>;
}

const COLOR = 'A colour: `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb(r,g,b)` or `rgba(r,g,b,a)` (alpha 0–1).';

/** Prose for each operation DTO; a new op without an entry here fails to compile. */
const OPERATION_DOCS: Record<OperationName, ModelDoc> = {
  resize: {
    description:
      'Resize to `width` and/or `height` (a missing side follows the aspect ratio), or by `scale`. ' +
      'Give `width`, `height` or both, or `scale` alone; `scale` keeps the aspect ratio, so `fit` and `background` do not apply to it.',
    example: { op: 'resize', width: 800, height: 600, fit: 'cover' },
    fields: {
      width: { description: 'Target width, px.' },
      height: { description: 'Target height, px.' },
      scale: { description: 'Percent of the current size (50 = half).' },
      fit: {
        description:
          'How the image meets a width × height box: `cover` fills it and crops the overflow, `contain` fits within it and pads with `background`, ' +
          '`fill` stretches to it, `inside` fits within it (no padding), `outside` covers it (no cropping).',
        default: 'inside',
      },
      withoutEnlargement: { description: 'Never make the image larger than it is.', default: false },
      background: { description: 'Padding colour for `fit: contain` (default black).', example: '#ffffff' },
    },
  },
  crop: {
    description:
      'Cut a piece out of the image as it is at this step of the chain; a crop never scales. Either an explicit region ' +
      '(`x`, `y`, `width`, `height`; `x` and `y` go together; a region reaching outside the image is refused, 422 `spec_not_applicable`), ' +
      'or a `width` × `height` window placed by `gravity` (a window larger than the image on a side is clamped to the image on that side). ' +
      '`gravity` cannot be combined with `x`/`y`. To get a fixed size whatever the input, resize with `fit: cover` instead.',
    example: { op: 'crop', width: 400, height: 400, gravity: 'attention' },
    fields: {
      x: { description: 'Left edge of the region, px. Requires `y`.' },
      y: { description: 'Top edge of the region, px. Requires `x`.' },
      width: { description: 'Width of the region or window, px.' },
      height: { description: 'Height of the region or window, px.' },
      gravity: {
        description:
          'Where the window sits (window form only): a compass point, or a smart crop at full size: `attention` (the most salient part) or `entropy` (the busiest part).',
        default: 'center',
      },
    },
  },
  rotate: {
    description: 'Rotate clockwise. Multiples of 90° turn the image; other angles enlarge the canvas and fill its corners with `background`.',
    example: { op: 'rotate', angle: 90 },
    fields: {
      angle: { description: 'Degrees, clockwise; negative turns anticlockwise.' },
      background: { description: 'Fills the corners of an angle that is not a multiple of 90° (default black).', example: '#00000000' },
    },
  },
  flip: { description: 'Flip vertically (upside down).', example: { op: 'flip' } },
  mirror: { description: 'Flip horizontally (left to right).', example: { op: 'mirror' } },
  grayscale: { description: 'Convert to greyscale.', example: { op: 'grayscale' } },
  sepia: { description: 'Sepia tone.', example: { op: 'sepia' } },
  blur: {
    description: 'Gaussian blur.',
    example: { op: 'blur', sigma: 2 },
    fields: { sigma: { description: 'Standard deviation of the Gaussian; larger is blurrier.' } },
  },
  sharpen: {
    description: 'Sharpen.',
    example: { op: 'sharpen', sigma: 1.5 },
    fields: { sigma: { description: 'Sigma of the Gaussian of the unsharp mask; omit it for a fast, mild sharpen.' } },
  },
  modulate: {
    description: 'Change brightness, saturation and hue; give at least one of them. Those omitted stay as they are.',
    example: { op: 'modulate', brightness: 1.2, saturation: 0.8 },
    fields: {
      brightness: { description: 'Multiplier: 1 leaves it, 0 is black.', default: 1 },
      saturation: { description: 'Multiplier: 1 leaves it, 0 is greyscale.', default: 1 },
      hue: { description: 'Hue rotation, whole degrees.', default: 0 },
    },
  },
  contrast: {
    description: 'Stretch (or flatten) contrast around mid-grey.',
    example: { op: 'contrast', factor: 1.5 },
    fields: { factor: { description: '1 leaves it, below 1 is flatter, above 1 is punchier; 0 is flat grey.' } },
  },
  watermark: {
    description: 'Overlay a text or one of your images; give exactly one of `text` and `imageId`.',
    example: { op: 'watermark', text: '© me', gravity: 'southeast', opacity: 0.5 },
    fields: {
      text: { description: 'The text to draw.', example: '© me' },
      imageId: { description: 'One of your own images (another user’s, or a deleted one, is a 400).' },
      gravity: { description: 'Where the watermark goes.', default: 'southeast' },
      opacity: { description: '0 is invisible, 1 is opaque.', default: 0.5 },
      size: { description: 'Width of the watermark, in percent of the image width.', default: 20 },
      color: { description: 'Colour of a text watermark.', default: '#ffffff' },
    },
  },
  trim: {
    description:
      'Cut away a border of (nearly) one colour: `background`, or the colour of the top-left pixel when omitted. ' +
      'An image that is all border is left as it is.',
    example: { op: 'trim', threshold: 10 },
    fields: {
      threshold: { description: 'How far (0–255) a pixel may differ from the border colour and still be trimmed.', default: 10 },
      background: { description: 'The border colour; omit it to take the top-left pixel’s.', example: '#ffffff' },
    },
  },
  extend: {
    description:
      'Pad the image: `top`, `right`, `bottom`, `left` in px, and `all` for every side not given (give at least one). ' +
      'The new area is `background`, or made from the image with `extendWith`.',
    example: { op: 'extend', top: 10, right: 20, bottom: 10, left: 20, background: '#ffffff' },
    fields: {
      all: { description: 'Padding of every side not given on its own, px.' },
      top: { description: 'Padding above, px (default `all`, else 0).' },
      right: { description: 'Padding on the right, px (default `all`, else 0).' },
      bottom: { description: 'Padding below, px (default `all`, else 0).' },
      left: { description: 'Padding on the left, px (default `all`, else 0).' },
      extendWith: {
        description: '`background` fills with the colour; `copy` repeats the edge pixels; `mirror` reflects the image; `repeat` tiles it.',
        default: 'background',
      },
      background: { description: 'Fill colour (only with `extendWith: background`).', default: '#000000' },
    },
  },
  roundCorners: {
    description: 'Make the corners transparent along a quarter circle. JPEG output, which has no alpha, shows them white.',
    example: { op: 'roundCorners', radius: 24 },
    fields: {
      radius: { description: 'Corner radius, in px or in percent of the shorter side (at most 50, which gives a circle or a pill).' },
      unit: { description: 'Unit of `radius`.', default: 'px' },
    },
  },
  flatten: {
    description: 'Merge transparency onto a background colour (an image without alpha is unchanged).',
    example: { op: 'flatten', background: '#ffffff' },
    fields: { background: { description: 'The colour behind transparent pixels.', default: '#ffffff' } },
  },
  tint: {
    description: 'Keep the lightness of every pixel and give it the hue and saturation of `color`.',
    example: { op: 'tint', color: '#704214' },
    fields: { color: { description: 'The tint.', example: '#704214' } },
  },
  negate: { description: 'Invert the colours (alpha is kept).', example: { op: 'negate' } },
  normalize: {
    description: 'Auto levels: stretch lightness so that its 1st to 99th percentiles span the full range.',
    example: { op: 'normalize' },
  },
  frame: {
    description:
      'Which frames of an animated GIF or WebP are rendered: one, by `index` (from 0; an index past the last frame is a 422 ' +
      '`spec_not_applicable`), or `frames: first` / `all`. Give exactly one of `index` and `frames`; must be the first operation. ' +
      'Without it every frame is rendered when the output can be animated. A still input has one frame, index 0.',
    example: { op: 'frame', index: 0 },
    fields: {
      index: { description: 'The frame to keep, from 0.' },
      frames: { description: '`first` keeps the first frame (a still output); `all` keeps the animation.' },
    },
  },
};

const quality = Object.entries(DEFAULT_QUALITY)
  .map(([format, q]) => `${format} ${q}`)
  .join(', ');

const OUTPUT_DOC: ModelDoc = {
  description: 'How the result is encoded. Metadata is stripped except the colour profile (sRGB unless `keepProfile`); animated GIF/WebP stay animated when the output format can carry it.',
  example: { format: 'webp', quality: 80 },
  fields: {
    format: { description: 'Default: the input’s format when it can be written; HEIC and TIFF become jpeg, SVG becomes png.' },
    quality: {
      description: `Encoder quality. Default per format: ${quality}; png uses it only with \`compress\` (default 100); gif ignores it.`,
    },
    compress: {
      description: 'The smallest file at that quality: mozjpeg for jpeg, a palette for png, the highest encoder effort for webp, avif and gif.',
      default: false,
    },
    lossless: { description: 'Lossless webp or avif; ignored by other formats.', default: false },
    progressive: { description: 'Progressive jpeg or interlaced png; ignored by other formats.', default: false },
    keepProfile: {
      description:
        'Keep the input’s ICC profile, so a wide gamut (Display P3, Adobe RGB, ProPhoto) stays wide. By default every output is ' +
        'converted to sRGB from its embedded profile (CMYK included) and written without a profile (untagged is sRGB). Default false. ' +
        'A CMYK input is always converted.',
    },
  },
};

export const SPEC_EXAMPLE = {
  operations: [
    { op: 'resize', width: 800, height: 600, fit: 'cover' },
    { op: 'rotate', angle: 90 },
    { op: 'watermark', text: '© me', gravity: 'southeast', opacity: 0.5 },
  ],
  output: { format: 'webp', quality: 80 },
};

/** A deep copy of plain JSON (no undefined values left); callers may change it freely. */
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/** The JSON-schema meaning of one class-validator constraint. An unknown one is an error, so none is left undocumented. */
function constraintSchema(name: string, constraints: unknown[] | undefined, where: string): SchemaObject {
  const [first] = constraints ?? [];
  switch (name) {
    case 'equals':
      return { type: typeof first as SchemaObject['type'], enum: [first] };
    case 'isIn': {
      const values = first as unknown[];
      return { type: typeof values[0] as SchemaObject['type'], enum: [...values] };
    }
    case 'isInt':
      return { type: 'integer' };
    case 'isNumber':
      return { type: 'number' };
    case 'isBoolean':
      return { type: 'boolean' };
    case 'isString':
      return { type: 'string' };
    case 'isUuid':
      return { type: 'string', format: 'uuid' };
    case 'isColor':
      return { type: 'string', description: COLOR };
    case 'min':
      return { minimum: first as number };
    case 'max':
      return { maximum: first as number };
    case 'minLength':
      return { minLength: first as number };
    case 'maxLength':
      return { maxLength: first as number };
    default:
      throw new Error(`${where}: no OpenAPI mapping for the ${name} validator (add one in transformation-spec.openapi.ts)`);
  }
}

const KEY_ORDER = ['type', 'format', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'default', 'description', 'example'];
const ordered = (schema: SchemaObject): SchemaObject =>
  Object.fromEntries(Object.entries(schema).sort(([a], [b]) => KEY_ORDER.indexOf(a) - KEY_ORDER.indexOf(b))) as SchemaObject;

/**
 * The object schema of a spec DTO, from its class-validator metadata. A property is
 * required unless it has a `ValidateIf` (all spec DTOs use it only through
 * `@OptionalField()`: validated when present). Unknown keys are refused by parseSpec.
 */
function dtoSchema(cls: new () => object, doc: ModelDoc): SchemaObject {
  const metadata: ValidationMetadata[] = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  const properties: Record<string, SchemaObject> = {};
  const optional = new Set<string>();
  for (const m of metadata) {
    const schema = (properties[m.propertyName] ??= {});
    if (m.type === 'conditionalValidation') {
      optional.add(m.propertyName);
    } else if (m.type === 'customValidation' && m.name) {
      const part = constraintSchema(m.name, m.constraints, `${cls.name}.${m.propertyName}`);
      Object.assign(schema, { ...part, description: [schema.description, part.description].filter(Boolean).join(' ') || undefined });
    } else {
      throw new Error(`${cls.name}.${m.propertyName}: no OpenAPI mapping for ${m.type} validation`);
    }
  }
  for (const [field, fieldDoc] of Object.entries(doc.fields ?? {})) {
    const schema = properties[field];
    if (!schema) throw new Error(`${cls.name} has no field ${field} to document`);
    Object.assign(schema, { ...fieldDoc, description: [fieldDoc.description, schema.description].filter(Boolean).join(' ') || undefined });
  }
  const required = Object.keys(properties).filter((p) => !optional.has(p));
  return {
    type: 'object',
    description: doc.description,
    properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, ordered(clone(v))])),
    ...(required.length ? { required } : {}),
    additionalProperties: false,
    example: doc.example,
  };
}

const OPERATION_NAMES_PARSED = Object.keys(OPERATION_DTOS) as OperationName[];

/** `operations` and `output` of a spec, shared by TransformationSpecDto and the body of POST …/transformations. */
export const SPEC_PROPERTIES = {
  operations: {
    type: 'array' as const,
    maxItems: MAX_OPERATIONS,
    description: `Applied in order, after EXIF auto-orientation; 0–${MAX_OPERATIONS} of them (none: the image is only re-encoded to \`output\`).`,
    items: {
      oneOf: OPERATION_NAMES_PARSED.map((name) => ({ $ref: getSchemaPath(OPERATION_DTOS[name].name) })),
      discriminator: {
        propertyName: 'op',
        mapping: Object.fromEntries(OPERATION_NAMES_PARSED.map((name) => [name, getSchemaPath(OPERATION_DTOS[name].name)])),
      },
    },
  },
  output: { description: 'Encoding of the result.', allOf: [{ $ref: getSchemaPath(OutputSpecDto.name) }] },
};

/** `preset` of a JSON spec (POST …/transformations, eager specs): one of the user's presets. */
export const PRESET_PROPERTY = {
  type: 'string' as const,
  pattern: '^[a-z0-9-]{1,64}$',
  example: 'thumb-square',
  description: 'One of your presets (/v1/presets): its operations run first, then this spec’s own; its output settings apply unless this spec sets them.',
};

/** The component schema of one eager spec: a transformation spec that may name a preset. */
const EAGER_SPEC_SCHEMA = 'EagerTransformationSpec';

/** `eager` of an upload (multipart field or direct-upload body): specs rendered as soon as the image exists. */
export const EAGER_PROPERTY = {
  type: 'array' as const,
  maxItems: MAX_EAGER,
  items: { $ref: getSchemaPath(EAGER_SPEC_SCHEMA) },
  description:
    `Up to ${MAX_EAGER} transformation specs to render as soon as the image exists, each a job reported in \`eagerJobs\`; a bad spec or an unknown preset refuses the upload (400). ` +
    'A spec may name one of your presets (`"preset": "name"`), as the body of POST …/transformations does; the preset is read when the upload is made.',
  example: [
    { operations: [{ op: 'resize', width: 1024 }], output: { format: 'webp' } },
    { operations: [{ op: 'crop', width: 256, height: 256, gravity: 'attention' }], output: { format: 'avif' } },
    { preset: 'thumb-square', output: { format: 'webp' } },
  ],
};

let built: Record<string, SchemaObject> | undefined;

/** The component schemas of the transformation spec: one per operation DTO, OutputSpecDto, TransformationSpecDto and an eager item (EagerTransformationSpec). */
export function transformationSpecSchemas(): Record<string, SchemaObject> {
  return clone((built ??= buildSchemas()));
}

/** The rules of one field of a spec DTO (type, range, enum, default), without its prose: for the query syntax. */
export function specFieldSchema(cls: new () => object, field: string): SchemaObject {
  const schema = (built ??= buildSchemas())[cls.name]?.properties?.[field] as SchemaObject | undefined;
  if (!schema) throw new Error(`${cls.name} has no field ${field}`);
  const { description: _description, example: _example, ...rules } = clone(schema);
  return rules;
}

function buildSchemas(): Record<string, SchemaObject> {
  const schemas: Record<string, SchemaObject> = {};
  for (const name of OPERATION_NAMES_PARSED) {
    const doc = OPERATION_DOCS[name];
    if (!doc) throw new Error(`operation ${name} has no OpenAPI description (OPERATION_DOCS)`);
    schemas[OPERATION_DTOS[name].name] = dtoSchema(OPERATION_DTOS[name], doc);
  }
  schemas[OutputSpecDto.name] = dtoSchema(OutputSpecDto, OUTPUT_DOC);
  schemas[TransformationSpecDto.name] = {
    type: 'object',
    description: 'A transformation spec (SPEC §4): chained operations, then the encoding of the result.',
    properties: SPEC_PROPERTIES,
    additionalProperties: false,
    example: SPEC_EXAMPLE,
  };
  schemas[EAGER_SPEC_SCHEMA] = {
    type: 'object',
    description: 'A transformation spec (SPEC §4) rendered when an upload lands, which may name one of your presets.',
    properties: { ...SPEC_PROPERTIES, preset: PRESET_PROPERTY },
    additionalProperties: false,
    example: { preset: 'thumb-square', output: { format: 'webp' } },
  };
  return schemas;
}

/** Adds the spec's schemas to the document; DTOs and routes refer to them with `getSchemaPath`. */
export function documentTransformationSpec(doc: OpenAPIObject): OpenAPIObject {
  const schemas = (doc.components ??= {}).schemas ?? {};
  for (const [name, schema] of Object.entries(transformationSpecSchemas())) {
    if (schemas[name]) throw new Error(`OpenAPI schema ${name} is defined twice`);
    schemas[name] = schema;
  }
  doc.components.schemas = schemas;
  return doc;
}
