import { Equals } from 'class-validator';
import { FlattenOperation } from '../transformation-spec.types';
import { IsColor, OptionalField } from './validation.decorators';

export class FlattenOperationDto implements FlattenOperation {
  @Equals('flatten')
  op: 'flatten';

  /** Default white. */
  @OptionalField() @IsColor()
  background?: string;
}
