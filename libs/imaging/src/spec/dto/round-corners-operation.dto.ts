import { Equals, IsIn, IsInt, Max, Min } from 'class-validator';
import { FieldError } from '@pixmill/common';
import { MAX_OUTPUT_SIDE, RADIUS_UNITS, RadiusUnit, RoundCornersOperation } from '../transformation-spec.types';
import { CrossFieldRules } from './operation-dto.interface';
import { OptionalField } from './validation.decorators';

export class RoundCornersOperationDto implements RoundCornersOperation, CrossFieldRules {
  @Equals('roundCorners')
  op: 'roundCorners';

  @IsInt() @Min(1) @Max(MAX_OUTPUT_SIDE)
  radius: number;

  /** Default `px`. */
  @OptionalField() @IsIn(RADIUS_UNITS)
  unit?: RadiusUnit;

  crossFieldErrors(): FieldError[] {
    if (this.unit === 'percent' && typeof this.radius === 'number' && this.radius > 50) {
      return [{ field: 'radius', message: 'a radius in percent must not be greater than 50' }];
    }
    return [];
  }
}
