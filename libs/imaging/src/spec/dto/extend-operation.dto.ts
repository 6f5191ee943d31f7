import { Equals, IsIn, IsInt, Max, Min } from 'class-validator';
import { FieldError } from '@pixmill/common';
import { EXTEND_WITH, ExtendOperation, ExtendWith, MAX_EXTEND } from '../transformation-spec.types';
import { CrossFieldRules } from './operation-dto.interface';
import { IsColor, OptionalField } from './validation.decorators';

export class ExtendOperationDto implements ExtendOperation, CrossFieldRules {
  @Equals('extend')
  op: 'extend';

  @OptionalField() @IsInt() @Min(0) @Max(MAX_EXTEND)
  all?: number;

  @OptionalField() @IsInt() @Min(0) @Max(MAX_EXTEND)
  top?: number;

  @OptionalField() @IsInt() @Min(0) @Max(MAX_EXTEND)
  right?: number;

  @OptionalField() @IsInt() @Min(0) @Max(MAX_EXTEND)
  bottom?: number;

  @OptionalField() @IsInt() @Min(0) @Max(MAX_EXTEND)
  left?: number;

  /** Default `background`. */
  @OptionalField() @IsIn(EXTEND_WITH)
  extendWith?: ExtendWith;

  /** Default black. */
  @OptionalField() @IsColor()
  background?: string;

  crossFieldErrors(): FieldError[] {
    const sides = [this.all, this.top, this.right, this.bottom, this.left];
    if (sides.every((n) => n === undefined)) {
      return [{ field: 'all', message: 'extend needs all, top, right, bottom or left' }];
    }
    if (this.background !== undefined && this.extendWith !== undefined && this.extendWith !== 'background') {
      return [{ field: 'background', message: `background does not apply to extendWith ${this.extendWith}` }];
    }
    return [];
  }
}
