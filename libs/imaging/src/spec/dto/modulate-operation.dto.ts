import { Equals, IsInt, IsNumber, Max, Min } from 'class-validator';
import { FieldError } from '@pixmill/common';
import { ModulateOperation } from '../transformation-spec.types';
import { CrossFieldRules } from './operation-dto.interface';
import { FINITE, OptionalField } from './validation.decorators';

export class ModulateOperationDto implements ModulateOperation, CrossFieldRules {
  @Equals('modulate')
  op: 'modulate';

  @OptionalField() @IsNumber(FINITE) @Min(0) @Max(5)
  brightness?: number;

  @OptionalField() @IsNumber(FINITE) @Min(0) @Max(5)
  saturation?: number;

  /** Degrees; sharp wants an integer. */
  @OptionalField() @IsInt() @Min(-3600) @Max(3600)
  hue?: number;

  crossFieldErrors(): FieldError[] {
    if (this.brightness === undefined && this.saturation === undefined && this.hue === undefined) {
      return [{ field: 'brightness', message: 'modulate needs brightness, saturation or hue' }];
    }
    return [];
  }
}
