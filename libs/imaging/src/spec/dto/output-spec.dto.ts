import { IsBoolean, IsIn, IsInt, Max, Min } from 'class-validator';
import { OUTPUT_FORMATS, OutputFormat, OutputSpec } from '../transformation-spec.types';
import { OptionalField } from './validation.decorators';

export class OutputSpecDto implements OutputSpec {
  @OptionalField() @IsIn(OUTPUT_FORMATS)
  format?: OutputFormat;

  @OptionalField() @IsInt() @Min(1) @Max(100)
  quality?: number;

  @OptionalField() @IsBoolean()
  compress?: boolean;

  @OptionalField() @IsBoolean()
  lossless?: boolean;

  @OptionalField() @IsBoolean()
  progressive?: boolean;

  @OptionalField() @IsBoolean()
  keepProfile?: boolean;
}
