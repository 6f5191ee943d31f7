import { validateSync, ValidationError } from 'class-validator';
import { FieldError, ValidationFailedException } from '@pixmill/common';
import { OPERATION_DTOS } from './dto/transformation-spec.dto';
import { OutputSpecDto } from './dto/output-spec.dto';
import { CrossFieldRules } from './dto/operation-dto.interface';
import { MAX_OPERATIONS, Operation, OperationName, OutputSpec, TransformationSpec } from './transformation-spec.types';

const TOP_LEVEL_KEYS = new Set(['operations', 'output']);
/** Past this many entries we stop validating: the body is wrong anyway and the work must stay bounded. */
const MAX_OPERATIONS_INSPECTED = 50;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Validates a JSON transformation spec (SPEC §4) and returns it as plain typed
 * data with only known keys. Defaults are NOT filled in here (that is
 * `canonicalSpec`'s job), so the result is what the caller asked for.
 * Throws `ValidationFailedException` listing every bad field, with paths like
 * `operations[0].width` or `output.quality`. Callers strip `webhookUrl` first.
 */
export function parseSpec(body: unknown): TransformationSpec {
  if (!isPlainObject(body)) {
    throw new ValidationFailedException([{ field: 'body', message: 'the transformation spec must be a JSON object' }]);
  }
  const errors: FieldError[] = [];
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL_KEYS.has(key)) errors.push({ field: key, message: `property ${key} should not exist` });
  }

  const operations: Operation[] = [];
  const rawOps = body.operations;
  if (rawOps !== undefined && !Array.isArray(rawOps)) {
    errors.push({ field: 'operations', message: 'operations must be an array' });
  } else if (Array.isArray(rawOps)) {
    if (rawOps.length > MAX_OPERATIONS) {
      errors.push({ field: 'operations', message: `operations must contain at most ${MAX_OPERATIONS} elements` });
    }
    rawOps.slice(0, MAX_OPERATIONS_INSPECTED).forEach((raw, i) => {
      const op = parseOperation(raw, `operations[${i}]`, errors);
      if (op) operations.push(op);
      // frame picks what is decoded, so nothing may come before it.
      if (op?.op === 'frame' && i > 0) errors.push({ field: `operations[${i}].op`, message: 'frame must be the first operation' });
    });
  }

  let output: OutputSpec = {};
  if (body.output !== undefined) {
    if (!isPlainObject(body.output)) {
      errors.push({ field: 'output', message: 'output must be an object' });
    } else {
      output = validateInto(OutputSpecDto, body.output, 'output', errors) as OutputSpec;
    }
  }

  if (errors.length > 0) throw new ValidationFailedException(errors);
  return { operations, output };
}

function parseOperation(raw: unknown, path: string, errors: FieldError[]): Operation | null {
  if (!isPlainObject(raw)) {
    errors.push({ field: path, message: 'each operation must be an object' });
    return null;
  }
  const name = raw.op;
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(OPERATION_DTOS, name)) {
    errors.push({
      field: `${path}.op`,
      message: `op must be one of: ${Object.keys(OPERATION_DTOS).join(', ')}`,
    });
    return null;
  }
  const dto = OPERATION_DTOS[name as OperationName] as new () => object;
  return validateInto(dto, raw, path, errors) as unknown as Operation;
}

/**
 * Copies `plain` onto a fresh DTO instance (with defineProperty, so keys like
 * `__proto__` stay plain data), runs class-validator with unknown keys
 * forbidden, then the DTO's cross-field rules. Returns a plain object with the
 * given keys (undefined values dropped).
 */
function validateInto<T extends object>(
  cls: new () => T,
  plain: Record<string, unknown>,
  path: string,
  errors: FieldError[],
): Record<string, unknown> {
  const instance = new cls();
  for (const key of Object.keys(plain)) {
    Object.defineProperty(instance, key, { value: plain[key], enumerable: true, writable: true, configurable: true });
  }
  const found = new Map<string, string[]>();
  const add = (field: string, message: string) => found.set(field, [...(found.get(field) ?? []), message]);
  // class-validator's whitelist does not see an own `__proto__` key (JSON.parse makes one).
  if (Object.prototype.hasOwnProperty.call(plain, '__proto__')) add('__proto__', 'property __proto__ should not exist');
  for (const e of validateSync(instance, { forbidNonWhitelisted: true, whitelist: true, forbidUnknownValues: true })) {
    for (const message of messagesOf(e)) add(e.property, message);
  }
  const rules = (instance as Partial<CrossFieldRules>).crossFieldErrors;
  if (typeof rules === 'function') {
    for (const e of rules.call(instance)) add(e.field, e.message);
  }
  for (const [field, messages] of found) {
    errors.push({ field: `${path}.${field}`, message: messages.join('; ') });
  }
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(plain)) {
    if (plain[key] !== undefined) {
      Object.defineProperty(result, key, { value: plain[key], enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}

const TYPE_CONSTRAINTS = ['isInt', 'isNumber', 'isString', 'isBoolean'];

/** When the type is wrong, the range messages are noise: report only the type. */
function messagesOf(e: ValidationError): string[] {
  const constraints = e.constraints ?? {};
  if (e.value === undefined && !('whitelistValidation' in constraints)) return [`${e.property} is required`];
  const typeFailure = TYPE_CONSTRAINTS.find((name) => name in constraints);
  return typeFailure ? [constraints[typeFailure]] : Object.values(constraints);
}
