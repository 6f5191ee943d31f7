import { applyDecorators } from '@nestjs/common';
import { ApiQuery, SchemaObject } from '@nestjs/swagger';
import {
  BlurOperationDto,
  ContrastOperationDto,
  CropOperationDto,
  ModulateOperationDto,
  OutputSpecDto,
  QUERY_CONTROL_KEYS,
  QUERY_SPEC_KEYS,
  ResizeOperationDto,
  RotateOperationDto,
  SharpenOperationDto,
  WatermarkOperationDto,
  TrimOperationDto,
  ExtendOperationDto,
  RoundCornersOperationDto,
} from '@pixmill/imaging';
import { DEFAULT_TRANSFORM_WAIT_SECONDS, MAX_TRANSFORM_WAIT_SECONDS } from './transformation.limits';
import { specFieldSchema } from './transformation-spec.openapi';

type QueryKey = (typeof QUERY_SPEC_KEYS)[number] | (typeof QUERY_CONTROL_KEYS)[number];
interface QueryParameter {
  description: string;
  schema: SchemaObject;
  example: unknown;
}

/** Ranges come from the spec DTOs' validators (through their OpenAPI schema), as parseQuerySpec checks them there. */
const rule = specFieldSchema;
const range = (s: SchemaObject) => `${s.minimum}–${s.maximum}`;
const list = (s: SchemaObject) => (s.enum ?? []).map((v) => `\`${v}\``).join(', ');
const STRING: SchemaObject = { type: 'string' };
const BOOLEAN: SchemaObject = { type: 'boolean' };
const ADDS = (op: string) => `\`true\` adds a ${op} operation here; \`false\` adds nothing.`;

const width = rule(ResizeOperationDto, 'width');
const scale = rule(ResizeOperationDto, 'scale');
const cropSide = rule(CropOperationDto, 'width');
const cropGravity = rule(CropOperationDto, 'gravity');
const sharpenSigma = rule(SharpenOperationDto, 'sigma');
const watermarkText = rule(WatermarkOperationDto, 'text');

/**
 * Every key `parseQuerySpec` accepts, and the keys the route reads itself. Typed by the
 * parser's exported lists, so a key added there without documentation fails to compile.
 */
export const TRANSFORM_QUERY: Record<QueryKey, QueryParameter> = {
  resize: {
    description:
      `A resize operation. \`300x200\` fits the image to a box (see \`fit\`); \`300x\` or \`x200\` sets one side and the other follows; ` +
      `\`50%\` scales (${range(scale)} %). Sides ${range(width)} px.`,
    schema: STRING,
    example: '300x200',
  },
  fit: {
    description:
      `How the resize before it meets its box (a \`fit\` given before the only resize applies to it): ${list(rule(ResizeOperationDto, 'fit'))}. ` +
      'See `fit` of the resize operation.',
    schema: rule(ResizeOperationDto, 'fit'),
    example: 'cover',
  },
  crop: {
    description:
      'A crop operation (never scales). `300x200+10+20`: the region of that size at x 10, y 20, which must lie within the image ' +
      '(the `+` may be sent as is or as `%2B`); `300x200`: a centred window, clamped to the image on a side it exceeds; ' +
      `\`300x200:attention\`: a window placed by a gravity, one of ${list(cropGravity)}. ` +
      `Sizes ${range(cropSide)} px, offsets ${range(rule(CropOperationDto, 'x'))} px.`,
    schema: STRING,
    example: '300x200+10+20',
  },
  rotate: { description: 'A rotate operation: degrees, clockwise.', schema: rule(RotateOperationDto, 'angle'), example: 90 },
  flip: {
    description: '`vertical` flips upside down (a flip operation); `horizontal` flips left to right (a mirror operation).',
    schema: { type: 'string', enum: ['vertical', 'horizontal'] },
    example: 'vertical',
  },
  mirror: { description: ADDS('mirror (left to right)'), schema: BOOLEAN, example: true },
  grayscale: { description: ADDS('grayscale'), schema: BOOLEAN, example: true },
  sepia: { description: ADDS('sepia'), schema: BOOLEAN, example: true },
  blur: { description: 'A blur operation: its sigma.', schema: rule(BlurOperationDto, 'sigma'), example: 2 },
  sharpen: {
    description: `A sharpen operation: \`true\` for a fast, mild sharpen, or a sigma (${range(sharpenSigma)}); \`false\` adds nothing.`,
    schema: STRING,
    example: 'true',
  },
  brightness: {
    description: 'A modulate operation: brightness multiplier (1 leaves it). A `brightness` and a `saturation` next to each other make one modulate.',
    schema: rule(ModulateOperationDto, 'brightness'),
    example: 1.2,
  },
  saturation: {
    description: 'A modulate operation: saturation multiplier (1 leaves it, 0 is greyscale). Joins an adjacent `brightness`.',
    schema: rule(ModulateOperationDto, 'saturation'),
    example: 0.8,
  },
  contrast: { description: 'A contrast operation: its factor (1 leaves it).', schema: rule(ContrastOperationDto, 'factor'), example: 1.5 },
  watermark: {
    description:
      `A watermark operation: \`text:Hello\` (up to ${watermarkText.maxLength} characters) or \`image:{imageId}\` (one of your images), ` +
      `placed ${rule(WatermarkOperationDto, 'gravity').default} at opacity ${rule(WatermarkOperationDto, 'opacity').default} and ` +
      `${rule(WatermarkOperationDto, 'size').default}% of the width (the JSON spec can change these).`,
    schema: STRING,
    example: 'text:© me',
  },
  trim: {
    description:
      `A trim operation: \`true\` trims the border of the top-left pixel's colour at threshold ${rule(TrimOperationDto, 'threshold').default}; ` +
      `\`20\` sets the threshold (${range(rule(TrimOperationDto, 'threshold'))}); \`20:ffffff\` also names the border colour ` +
      '(bare hex, or `%23ffffff`). `false` adds nothing.',
    schema: STRING,
    example: '10',
  },
  extend: {
    description:
      `An extend operation (padding, ${range(rule(ExtendOperationDto, 'top'))} px a side): \`20\` on every side, \`10,20\` (top and bottom, ` +
      'left and right) or `10,20,30,40` (top, right, bottom, left, as in CSS); then optionally `:ffffff` (a fill colour, default black), ' +
      '`:copy` (edge pixels), `:mirror` or `:repeat`.',
    schema: STRING,
    example: '20:ffffff',
  },
  roundCorners: {
    description: `A roundCorners operation: a radius in px (\`24\`) or percent of the shorter side (\`10%\`, at most 50%). Sides ${range(rule(RoundCornersOperationDto, 'radius'))}.`,
    schema: STRING,
    example: '24',
  },
  flatten: {
    description: 'A flatten operation: `true` puts transparency on white; a colour (`000000`, `%23000000`) on that colour. `false` adds nothing.',
    schema: STRING,
    example: 'true',
  },
  tint: { description: 'A tint operation: the colour (bare hex like `704214`, `%23704214` or `rgb(…)`).', schema: STRING, example: '704214' },
  negate: { description: ADDS('negate'), schema: BOOLEAN, example: true },
  normalize: { description: ADDS('normalize (auto levels)'), schema: BOOLEAN, example: true },
  frame: {
    description: 'A frame operation (must be the first key that makes an operation): a frame index from 0, `first` or `all`.',
    schema: STRING,
    example: '0',
  },
  format: {
    description: 'Output format; default the input’s (HEIC and TIFF become jpeg, SVG png).',
    schema: rule(OutputSpecDto, 'format'),
    example: 'webp',
  },
  quality: { description: 'Output quality (the default depends on the format).', schema: rule(OutputSpecDto, 'quality'), example: 80 },
  compress: { description: 'The smallest file at that quality (mozjpeg, palette PNG, highest effort).', schema: rule(OutputSpecDto, 'compress'), example: true },
  keepProfile: {
    description: 'Keep the input’s colour profile (wide gamut stays wide); by default the output is converted to sRGB.',
    schema: rule(OutputSpecDto, 'keepProfile'),
    example: true,
  },
  wait: {
    description: 'Seconds to wait for the render before answering 202 with the job instead of a 302.',
    schema: { type: 'integer', minimum: 0, maximum: MAX_TRANSFORM_WAIT_SECONDS, default: DEFAULT_TRANSFORM_WAIT_SECONDS },
    example: DEFAULT_TRANSFORM_WAIT_SECONDS,
  },
  webhookUrl: {
    description:
      'URL-encoded; receives `job.succeeded` or `job.failed` of this render, signed with your account secret, as with the JSON body. ' +
      'SSRF-checked (400 otherwise). It is told of a cache hit too: the hit then goes through a (succeeded, cached) job.',
    schema: { type: 'string', format: 'uri' },
    example: 'https://example.com/hooks/pixmill',
  },
};

/** The query parameters of GET /v1/images/{id}/transform, all optional, in the parser's order. */
export function ApiTransformQuery(): MethodDecorator {
  return applyDecorators(
    // The example goes in the schema: @nestjs/swagger drops a parameter-level one when a schema is given.
    ...Object.entries(TRANSFORM_QUERY).map(([name, p]) =>
      ApiQuery({ name, required: false, description: p.description, schema: { ...p.schema, example: p.example } }),
    ),
  );
}
