import { Equals, IsNumber, Max, Min } from 'class-validator';
import { SharpenOperation } from '../transformation-spec.types';
import { FINITE, OptionalField } from './validation.decorators';

export class SharpenOperationDto implements SharpenOperation {
  @Equals('sharpen')
  op: 'sharpen';

  /** Omitted = sharp's fast mild sharpen. Range is ours (SPEC is silent): sharp accepts 0.000001–10. */
  @OptionalField() @IsNumber(FINITE) @Min(0.3) @Max(10)
  sigma?: number;
}
