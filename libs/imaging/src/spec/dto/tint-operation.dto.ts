import { Equals } from 'class-validator';
import { TintOperation } from '../transformation-spec.types';
import { IsColor } from './validation.decorators';

export class TintOperationDto implements TintOperation {
  @Equals('tint')
  op: 'tint';

  @IsColor()
  color: string;
}
