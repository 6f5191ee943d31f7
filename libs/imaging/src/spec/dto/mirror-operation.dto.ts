import { Equals } from 'class-validator';
import { MirrorOperation } from '../transformation-spec.types';

export class MirrorOperationDto implements MirrorOperation {
  @Equals('mirror')
  op: 'mirror';
}
