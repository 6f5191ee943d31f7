import { Operation, OutputSpec, TransformationSpec } from '../transformation-spec.types';
import { BlurOperationDto } from './blur-operation.dto';
import { ContrastOperationDto } from './contrast-operation.dto';
import { CropOperationDto } from './crop-operation.dto';
import { FlipOperationDto } from './flip-operation.dto';
import { GrayscaleOperationDto } from './grayscale-operation.dto';
import { MirrorOperationDto } from './mirror-operation.dto';
import { ModulateOperationDto } from './modulate-operation.dto';
import { RotateOperationDto } from './rotate-operation.dto';
import { ResizeOperationDto } from './resize-operation.dto';
import { SepiaOperationDto } from './sepia-operation.dto';
import { SharpenOperationDto } from './sharpen-operation.dto';
import { WatermarkOperationDto } from './watermark-operation.dto';
import { TrimOperationDto } from './trim-operation.dto';
import { ExtendOperationDto } from './extend-operation.dto';
import { RoundCornersOperationDto } from './round-corners-operation.dto';
import { FlattenOperationDto } from './flatten-operation.dto';
import { TintOperationDto } from './tint-operation.dto';
import { NegateOperationDto } from './negate-operation.dto';
import { NormalizeOperationDto } from './normalize-operation.dto';
import { FrameOperationDto } from './frame-operation.dto';

/** The DTO class for each `op`: the discriminator `parseSpec` dispatches on. */
export const OPERATION_DTOS = {
  resize: ResizeOperationDto,
  crop: CropOperationDto,
  rotate: RotateOperationDto,
  flip: FlipOperationDto,
  mirror: MirrorOperationDto,
  grayscale: GrayscaleOperationDto,
  sepia: SepiaOperationDto,
  blur: BlurOperationDto,
  sharpen: SharpenOperationDto,
  modulate: ModulateOperationDto,
  contrast: ContrastOperationDto,
  watermark: WatermarkOperationDto,
  trim: TrimOperationDto,
  extend: ExtendOperationDto,
  roundCorners: RoundCornersOperationDto,
  flatten: FlattenOperationDto,
  tint: TintOperationDto,
  negate: NegateOperationDto,
  normalize: NormalizeOperationDto,
  frame: FrameOperationDto,
} as const;

/**
 * Top-level body shape (documentation / OpenAPI anchor). Validation is done by
 * `parseSpec`, which dispatches each operation to its DTO by `op` and reports
 * every error with its full path.
 */
export class TransformationSpecDto implements TransformationSpec {
  operations: Operation[];
  output: OutputSpec;
}
