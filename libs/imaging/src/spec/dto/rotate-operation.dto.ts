import { Equals, IsNumber, Max, Min } from 'class-validator';
import { RotateOperation } from '../transformation-spec.types';
import { FINITE, IsColor, OptionalField } from './validation.decorators';

export class RotateOperationDto implements RotateOperation {
  @Equals('rotate')
  op: 'rotate';

  /** Any angle in degrees; bounded only to keep the number sane. Normalised to [0, 360) in the canonical form. */
  @IsNumber(FINITE) @Min(-3600) @Max(3600)
  angle: number;

  @OptionalField() @IsColor()
  background?: string;
}
