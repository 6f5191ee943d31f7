import { Equals, IsNumber, Max, Min } from 'class-validator';
import { BlurOperation } from '../transformation-spec.types';
import { FINITE } from './validation.decorators';

export class BlurOperationDto implements BlurOperation {
  @Equals('blur')
  op: 'blur';

  @IsNumber(FINITE) @Min(0.3) @Max(100)
  sigma: number;
}
