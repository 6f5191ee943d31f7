import { ValidationError } from 'class-validator';
import { FieldError, ValidationFailedException } from '@pixmill/common';

/**
 * Flattens nested class-validator errors into `{field: 'a.b[0].c', message}` entries,
 * one per field: "is required" when the field is missing, else the rule written first
 * on the property (class-validator runs, and lists, the rules bottom-up, so a missing
 * or mistyped value would otherwise be reported by whichever length or range rule
 * sits lowest).
 */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const isIndex = /^\d+$/.test(e.property);
    const field = parent ? (isIndex ? `${parent}[${e.property}]` : `${parent}.${e.property}`) : e.property;
    const messages = Object.entries(e.constraints ?? {});
    let own: FieldError[] = [];
    if (messages.some(([rule]) => rule === 'whitelistValidation')) {
      own = [{ field, message: `${e.property} is not an allowed field` }];
    } else if (messages.length) {
      const missing = e.value === undefined || e.value === null;
      own = [{ field, message: missing ? `${e.property} is required` : messages[messages.length - 1][1] }];
    }
    return [...own, ...flattenValidationErrors(e.children ?? [], field)];
  });
}

export function validationExceptionFactory(errors: ValidationError[]): ValidationFailedException {
  return new ValidationFailedException(flattenValidationErrors(errors));
}
