import { Equals } from 'class-validator';
import { NormalizeOperation } from '../transformation-spec.types';

export class NormalizeOperationDto implements NormalizeOperation {
  @Equals('normalize')
  op: 'normalize';
}
