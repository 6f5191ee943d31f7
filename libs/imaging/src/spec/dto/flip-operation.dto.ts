import { Equals } from 'class-validator';
import { FlipOperation } from '../transformation-spec.types';

export class FlipOperationDto implements FlipOperation {
  @Equals('flip')
  op: 'flip';
}
