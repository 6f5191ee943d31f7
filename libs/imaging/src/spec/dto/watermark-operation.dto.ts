import { Equals, IsIn, IsNumber, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { FieldError } from '@pixmill/common';
import { COMPASS_GRAVITIES, CompassGravity, WatermarkOperation } from '../transformation-spec.types';
import { CrossFieldRules } from './operation-dto.interface';
import { FINITE, IsColor, OptionalField } from './validation.decorators';

export class WatermarkOperationDto implements WatermarkOperation, CrossFieldRules {
  @Equals('watermark')
  op: 'watermark';

  @OptionalField() @IsString() @MinLength(1) @MaxLength(200)
  text?: string;

  /** An image of the caller's own; ownership is checked by the API, not here. */
  @OptionalField() @IsUUID()
  imageId?: string;

  /** Default `southeast`. */
  @OptionalField() @IsIn(COMPASS_GRAVITIES)
  gravity?: CompassGravity;

  /** Default 0.5. */
  @OptionalField() @IsNumber(FINITE) @Min(0) @Max(1)
  opacity?: number;

  /** Percent of the image width, default 20. */
  @OptionalField() @IsNumber(FINITE) @Min(1) @Max(100)
  size?: number;

  /** Text colour, default white. */
  @OptionalField() @IsColor()
  color?: string;

  crossFieldErrors(): FieldError[] {
    if (this.text === undefined && this.imageId === undefined) {
      return [{ field: 'text', message: 'watermark needs text or imageId' }];
    }
    if (this.text !== undefined && this.imageId !== undefined) {
      return [{ field: 'imageId', message: 'watermark takes text or imageId, not both' }];
    }
    return [];
  }
}
