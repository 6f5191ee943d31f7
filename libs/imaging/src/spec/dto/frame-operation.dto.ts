import { Equals, IsIn, IsInt, Max, Min } from 'class-validator';
import { FieldError } from '@pixmill/common';
import { FRAME_SELECTIONS, FrameOperation, FrameSelection, MAX_FRAME_INDEX } from '../transformation-spec.types';
import { CrossFieldRules } from './operation-dto.interface';
import { OptionalField } from './validation.decorators';

export class FrameOperationDto implements FrameOperation, CrossFieldRules {
  @Equals('frame')
  op: 'frame';

  /** The frame to keep, from 0. */
  @OptionalField() @IsInt() @Min(0) @Max(MAX_FRAME_INDEX)
  index?: number;

  @OptionalField() @IsIn(FRAME_SELECTIONS)
  frames?: FrameSelection;

  crossFieldErrors(): FieldError[] {
    if ((this.index === undefined) === (this.frames === undefined)) {
      return [{ field: 'index', message: 'frame needs exactly one of index and frames' }];
    }
    return [];
  }
}
