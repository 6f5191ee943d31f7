import { Equals, IsIn, IsInt, Max, Min } from 'class-validator';
import { FieldError } from '@pixmill/common';
import { CROP_GRAVITIES, CropGravity, CropOperation } from '../transformation-spec.types';
import { CrossFieldRules } from './operation-dto.interface';
import { OptionalField } from './validation.decorators';

/** Crop offsets and sizes are in input pixels, which may exceed the 8192 output limit before a later resize. */
const MAX_CROP_COORD = 65535;

export class CropOperationDto implements CropOperation, CrossFieldRules {
  @Equals('crop')
  op: 'crop';

  @OptionalField() @IsInt() @Min(0) @Max(MAX_CROP_COORD)
  x?: number;

  @OptionalField() @IsInt() @Min(0) @Max(MAX_CROP_COORD)
  y?: number;

  @IsInt() @Min(1) @Max(MAX_CROP_COORD)
  width: number;

  @IsInt() @Min(1) @Max(MAX_CROP_COORD)
  height: number;

  /** Default `center`; only with the width × height form. */
  @OptionalField() @IsIn(CROP_GRAVITIES)
  gravity?: CropGravity;

  crossFieldErrors(): FieldError[] {
    const explicit = this.x !== undefined || this.y !== undefined;
    if (!explicit) return [];
    const errors: FieldError[] = [];
    if (this.x === undefined) errors.push({ field: 'x', message: 'x is required when y is given' });
    if (this.y === undefined) errors.push({ field: 'y', message: 'y is required when x is given' });
    if (this.gravity !== undefined) {
      errors.push({ field: 'gravity', message: 'gravity cannot be combined with an explicit x, y region' });
    }
    return errors;
  }
}
