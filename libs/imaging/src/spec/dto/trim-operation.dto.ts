import { Equals, IsInt, Max, Min } from 'class-validator';
import { TrimOperation } from '../transformation-spec.types';
import { IsColor, OptionalField } from './validation.decorators';

export class TrimOperationDto implements TrimOperation {
  @Equals('trim')
  op: 'trim';

  /** Default 10. */
  @OptionalField() @IsInt() @Min(0) @Max(255)
  threshold?: number;

  /** Default: the colour of the top-left pixel. */
  @OptionalField() @IsColor()
  background?: string;
}
