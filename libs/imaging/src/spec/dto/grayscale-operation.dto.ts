import { Equals } from 'class-validator';
import { GrayscaleOperation } from '../transformation-spec.types';

export class GrayscaleOperationDto implements GrayscaleOperation {
  @Equals('grayscale')
  op: 'grayscale';
}
