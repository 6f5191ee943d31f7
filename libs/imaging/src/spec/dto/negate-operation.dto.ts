import { Equals } from 'class-validator';
import { NegateOperation } from '../transformation-spec.types';

export class NegateOperationDto implements NegateOperation {
  @Equals('negate')
  op: 'negate';
}
