import { FieldError } from '@pixmill/common';

/**
 * Rules that involve more than one field (e.g. "width, height or scale")
 * cannot be expressed as class-validator property decorators; DTOs that have
 * them implement this and `parseSpec` runs it after `validateSync`.
 * `field` is relative to the DTO (e.g. `width`).
 */
export interface CrossFieldRules {
  crossFieldErrors(): FieldError[];
}
