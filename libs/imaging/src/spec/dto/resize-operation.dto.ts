import { Equals, IsBoolean, IsIn, IsInt, IsNumber, Max, Min } from 'class-validator';
import { FieldError } from '@pixmill/common';
import { MAX_OUTPUT_SIDE, RESIZE_FITS, ResizeFit, ResizeOperation } from '../transformation-spec.types';
import { CrossFieldRules } from './operation-dto.interface';
import { FINITE, IsColor, OptionalField } from './validation.decorators';

export class ResizeOperationDto implements ResizeOperation, CrossFieldRules {
  @Equals('resize')
  op: 'resize';

  @OptionalField() @IsInt() @Min(1) @Max(MAX_OUTPUT_SIDE)
  width?: number;

  @OptionalField() @IsInt() @Min(1) @Max(MAX_OUTPUT_SIDE)
  height?: number;

  @OptionalField() @IsNumber(FINITE) @Min(1) @Max(400)
  scale?: number;

  /** Default `inside`. */
  @OptionalField() @IsIn(RESIZE_FITS)
  fit?: ResizeFit;

  @OptionalField() @IsBoolean()
  withoutEnlargement?: boolean;

  @OptionalField() @IsColor()
  background?: string;

  crossFieldErrors(): FieldError[] {
    const hasSize = this.width !== undefined || this.height !== undefined;
    if (this.scale !== undefined && hasSize) {
      return [{ field: 'scale', message: 'scale cannot be combined with width or height' }];
    }
    if (this.scale === undefined && !hasSize) {
      return [{ field: 'width', message: 'resize needs width and/or height, or scale' }];
    }
    return [];
  }
}
