import { Equals, IsNumber, Max, Min } from 'class-validator';
import { ContrastOperation } from '../transformation-spec.types';
import { FINITE } from './validation.decorators';

export class ContrastOperationDto implements ContrastOperation {
  @Equals('contrast')
  op: 'contrast';

  @IsNumber(FINITE) @Min(0) @Max(5)
  factor: number;
}
