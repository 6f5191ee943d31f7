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
] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

export const MAX_OPERATIONS = 10;
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
  | WatermarkOperation;

export interface OutputSpec {
  /** Defaults to the input's format (heic/tiff/svg inputs: see `defaultOutputFormat`). */
  format?: OutputFormat;
  quality?: number;
  compress?: boolean;
  /** Only meaningful for webp and avif; ignored (and dropped from the hash) otherwise. */
  lossless?: boolean;
  /** Progressive JPEG / interlaced PNG; ignored for other formats. */
  progressive?: boolean;
}

export interface TransformationSpec {
  operations: Operation[];
  output: OutputSpec;
}
