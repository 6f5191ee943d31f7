/**
 * The transformation spec of SPEC §4 as plain, typed data. `parseSpec` and
 * `parseQuerySpec` return these shapes; the DTO classes in ./dto carry the
 * class-validator rules for them.
 */
export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Formats accepted as input (SPEC §3 "Allowed inputs"; svg only when enabled). */
export const INPUT_FORMATS = ['jpeg', 'png', 'gif', 'webp', 'avif', 'heic', 'tiff', 'svg'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export const RESIZE_FITS = ['cover', 'contain', 'fill', 'inside', 'outside'] as const;
export type ResizeFit = (typeof RESIZE_FITS)[number];

export const COMPASS_GRAVITIES = [
  'center',
  'north',
  'northeast',
  'east',
  'southeast',
  'south',
  'southwest',
  'west',
  'northwest',
] as const;
export type CompassGravity = (typeof COMPASS_GRAVITIES)[number];

export const CROP_GRAVITIES = [...COMPASS_GRAVITIES, 'attention', 'entropy'] as const;
export type CropGravity = (typeof CROP_GRAVITIES)[number];

export const OPERATION_NAMES = [
  'resize',
  'crop',
  'rotate',
  'flip',
  'mirror',
  'grayscale',
  'sepia',
  'blur',
  'sharpen',
  'modulate',
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
] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

export const MAX_OPERATIONS = 10;
/** Largest padding `extend` adds on one side, px. */
export const MAX_EXTEND = 4096;
/** Highest frame index `frame` accepts (inputs have at most the configured number of frames). */
export const MAX_FRAME_INDEX = 9999;
/** Largest side of any output, and the largest resize target (SPEC §4). */
export const MAX_OUTPUT_SIDE = 8192;

export interface ResizeOperation {
  op: 'resize';
  width?: number;
  height?: number;
  /** Percent of the current size, 1–400. Exclusive with width/height. */
  scale?: number;
  fit?: ResizeFit;
  withoutEnlargement?: boolean;
  background?: string;
}
/** Explicit region (x, y, width, height) or a width × height window placed by gravity. */
export interface CropOperation {
  op: 'crop';
  x?: number;
  y?: number;
  width: number;
  height: number;
  gravity?: CropGravity;
}
export interface RotateOperation {
  op: 'rotate';
  angle: number;
  background?: string;
}
export interface FlipOperation {
  op: 'flip';
}
export interface MirrorOperation {
  op: 'mirror';
}
export interface GrayscaleOperation {
  op: 'grayscale';
}
export interface SepiaOperation {
  op: 'sepia';
}
export interface BlurOperation {
  op: 'blur';
  sigma: number;
}
export interface SharpenOperation {
  op: 'sharpen';
  sigma?: number;
}
export interface ModulateOperation {
  op: 'modulate';
  brightness?: number;
  saturation?: number;
  hue?: number;
}
export interface ContrastOperation {
  op: 'contrast';
  factor: number;
}
export interface WatermarkOperation {
  op: 'watermark';
  text?: string;
  imageId?: string;
  gravity?: CompassGravity;
  opacity?: number;
  /** Percent of the image width. */
  size?: number;
  color?: string;
}

/** Cut away a border of (nearly) one colour: `background`, or the top-left pixel's when omitted. */
export interface TrimOperation {
  op: 'trim';
  /** Allowed difference from the border colour, 0–255 (default 10). */
  threshold?: number;
  background?: string;
}

export const EXTEND_WITH = ['background', 'copy', 'mirror', 'repeat'] as const;
export type ExtendWith = (typeof EXTEND_WITH)[number];
/** Pad the image: per side, or `all` for every side not given. */
export interface ExtendOperation {
  op: 'extend';
  all?: number;
  top?: number;
  right?: number;
  bottom?: number;
  left?: number;
  /** What fills the new area: `background` colour (default), or copies of the edge pixels, or the image mirrored or repeated. */
  extendWith?: ExtendWith;
  background?: string;
}

export const RADIUS_UNITS = ['px', 'percent'] as const;
export type RadiusUnit = (typeof RADIUS_UNITS)[number];
/** Transparent rounded corners (JPEG output flattens them on white). */
export interface RoundCornersOperation {
  op: 'roundCorners';
  radius: number;
  /** `px`, or `percent` of the shorter side (50 makes a circle or a pill). Default px. */
  unit?: RadiusUnit;
}
/** Merge alpha onto a background colour (default white). */
export interface FlattenOperation {
  op: 'flatten';
  background?: string;
}
/** Keep luminance, take the chroma of `color`. */
export interface TintOperation {
  op: 'tint';
  color: string;
}
export interface NegateOperation {
  op: 'negate';
}
/** Auto levels: stretch luminance so the 1st–99th percentiles span the full range. */
export interface NormalizeOperation {
  op: 'normalize';
}
export const FRAME_SELECTIONS = ['first', 'all'] as const;
export type FrameSelection = (typeof FRAME_SELECTIONS)[number];
/**
 * Which frames of an animated input are rendered: one (`index`, from 0; `frames:
 * 'first'` is index 0) or `all` (the default when there is no frame op). Applied
 * when the input is decoded, so it must come first in the chain.
 */
export interface FrameOperation {
  op: 'frame';
  index?: number;
  frames?: FrameSelection;
}

export type Operation =
  | ResizeOperation
  | CropOperation
  | RotateOperation
  | FlipOperation
  | MirrorOperation
  | GrayscaleOperation
  | SepiaOperation
  | BlurOperation
  | SharpenOperation
  | ModulateOperation
  | ContrastOperation
  | WatermarkOperation
  | TrimOperation
  | ExtendOperation
  | RoundCornersOperation
  | FlattenOperation
  | TintOperation
  | NegateOperation
  | NormalizeOperation
  | FrameOperation;

export interface OutputSpec {
  /** Defaults to the input's format (heic/tiff/svg inputs: see `defaultOutputFormat`). */
  format?: OutputFormat;
  quality?: number;
  compress?: boolean;
  /** Only meaningful for webp and avif; ignored (and dropped from the hash) otherwise. */
  lossless?: boolean;
  /** Progressive JPEG / interlaced PNG; ignored for other formats. */
  progressive?: boolean;
  /**
   * Keep the input's ICC profile (a wide gamut such as Display P3 stays wide).
   * Default false: the output is converted to sRGB and tagged as such.
   */
  keepProfile?: boolean;
}

export interface TransformationSpec {
  operations: Operation[];
  output: OutputSpec;
}
