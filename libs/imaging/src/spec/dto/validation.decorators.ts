import { ValidateBy, ValidateIf, ValidationOptions, buildMessage } from 'class-validator';
import { parseColor } from '../color.util';

/**
 * Like `@IsOptional()`, but only `undefined` counts as absent: an explicit
 * `null` is validated (and rejected) instead of slipping through.
 */
export function OptionalField(): PropertyDecorator {
  return (target, key) => ValidateIf((o: Record<string | symbol, unknown>) => o[key] !== undefined)(target, key);
}

/** A CSS colour as the spec accepts it: hex (`#fff`, `#ffffff`, with alpha) or `rgb()/rgba()`. */
export function IsColor(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isColor',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && parseColor(value) !== null,
        defaultMessage: buildMessage(
          (each) => `${each}$property must be a colour like #fff, #ffffff, #ffffff80 or rgba(255,255,255,0.5)`,
          options,
        ),
      },
    },
    options,
  );
}

/** A finite number (no NaN or Infinity). */
export const FINITE = { allowNaN: false, allowInfinity: false } as const;
