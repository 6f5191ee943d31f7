import { Equals } from 'class-validator';
import { SepiaOperation } from '../transformation-spec.types';

export class SepiaOperationDto implements SepiaOperation {
  @Equals('sepia')
  op: 'sepia';
}
