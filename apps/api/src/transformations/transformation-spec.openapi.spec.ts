import { SchemaObject } from '@nestjs/swagger';
import { validateSync } from 'class-validator';
import { randomUUID } from 'node:crypto';
import {
  canonicalSpec,
  OPERATION_DTOS,
  OPERATION_NAMES,
  OUTPUT_FORMATS,
  OutputSpecDto,
  parseQuerySpec,
  parseSpec,
  TransformationSpec,
} from '@pixmill/imaging';
import { TRANSFORM_QUERY } from './transform-query.openapi';
import { EAGER_PROPERTY, SPEC_EXAMPLE, transformationSpecSchemas } from './transformation-spec.openapi';

const schemas = transformationSpecSchemas();
const props = (s: SchemaObject) => s.properties as Record<string, SchemaObject>;
const DTOS: [string, new () => object][] = [...Object.values(OPERATION_DTOS), OutputSpecDto].map((cls) => [cls.name, cls]);

/** The class-validator errors (property rules only) a DTO reports for `field` when `plain` is validated. */
function fieldErrors(cls: new () => object, plain: Record<string, unknown>, field: string): string[] {
  const errors = validateSync(Object.assign(new cls(), plain), { whitelist: true, forbidNonWhitelisted: true });
  return errors.filter((e) => e.property === field).flatMap((e) => Object.values(e.constraints ?? {}));
}

/** Values the schema of a field admits, and values it rules out. */
function probes(s: SchemaObject): { valid: unknown[]; invalid: unknown[] } {
  if (s.enum) return { valid: s.enum, invalid: ['not-a-value', 1] };
  switch (s.type) {
    case 'integer':
      return { valid: [s.minimum, s.maximum], invalid: [s.minimum! - 1, s.maximum! + 1, s.minimum! + 0.5, String(s.minimum)] };
    case 'number':
      return { valid: [s.minimum, s.maximum, (s.minimum! + s.maximum!) / 2], invalid: [s.minimum! - 0.001, s.maximum! + 0.001, String(s.minimum)] };
    case 'boolean':
      return { valid: [true, false], invalid: ['true', 1] };
    case 'string':
      if (s.format === 'uuid') return { valid: [randomUUID()], invalid: ['not-a-uuid', 1] };
      if (s.maxLength !== undefined) return { valid: ['x'.repeat(s.maxLength), 'x'.repeat(s.minLength ?? 0)], invalid: ['x'.repeat(s.maxLength + 1), ''.padEnd((s.minLength ?? 1) - 1, 'x'), 1] };
      return { valid: [s.example ?? s.default], invalid: ['not a colour', 1] }; // colours
    default:
      throw new Error(`no probes for ${JSON.stringify(s)}`);
  }
}

describe('OpenAPI schema of the transformation spec', () => {
  it('has one schema per op the parser dispatches on, discriminated on op', () => {
    expect(Object.keys(OPERATION_DTOS).sort()).toEqual([...OPERATION_NAMES].sort());
    const operations = props(schemas.TransformationSpecDto).operations;
    const items = operations.items as SchemaObject;
    expect(items.oneOf).toHaveLength(OPERATION_NAMES.length);
    expect(items.discriminator?.propertyName).toBe('op');
    for (const name of OPERATION_NAMES) {
      const schemaName = OPERATION_DTOS[name].name;
      expect(items.discriminator?.mapping?.[name]).toBe(`#/components/schemas/${schemaName}`);
      expect(items.oneOf).toContainEqual({ $ref: `#/components/schemas/${schemaName}` });
      expect(props(schemas[schemaName]).op).toEqual({ type: 'string', enum: [name] });
      expect(schemas[schemaName].required).toContain('op');
    }
  });

  describe.each(DTOS)('%s', (name, cls) => {
    const schema = schemas[name];

    it.each(Object.entries(props(schema)))('%s admits exactly what the validator admits', (field, fieldSchema) => {
      const { valid, invalid } = probes(fieldSchema);
      for (const value of valid) expect({ value, errors: fieldErrors(cls, { [field]: value }, field) }).toEqual({ value, errors: [] });
      for (const value of invalid) {
        expect({ value, rejected: fieldErrors(cls, { [field]: value }, field).length > 0 }).toEqual({ value, rejected: true });
      }
    });

    it('lists as required exactly the fields the validator requires', () => {
      const required = Object.keys(props(schema)).filter((field) => fieldErrors(cls, {}, field).length > 0);
      expect(schema.required ?? []).toEqual(required);
    });

    it('refuses unknown fields, as parseSpec does', () => {
      expect(schema.additionalProperties).toBe(false);
      expect(fieldErrors(cls, { bogus: 1 }, 'bogus')).not.toEqual([]);
    });
  });

  it('has examples that parseSpec accepts', () => {
    for (const name of OPERATION_NAMES) {
      expect(() => parseSpec({ operations: [schemas[OPERATION_DTOS[name].name].example] })).not.toThrow();
    }
    expect(() => parseSpec({ operations: [], output: schemas.OutputSpecDto.example })).not.toThrow();
    expect(() => parseSpec(SPEC_EXAMPLE)).not.toThrow();
    expect(schemas.TransformationSpecDto.example).toEqual(SPEC_EXAMPLE);
    // An eager example may name a preset: the rest of it is a spec.
    const eager = [...(EAGER_PROPERTY.example as Array<Record<string, unknown>>), schemas.EagerTransformationSpec.example as Record<string, unknown>];
    for (const { preset: _preset, ...spec } of eager) expect(() => parseSpec(spec)).not.toThrow();
  });

  it('documents as defaults exactly what canonicalSpec fills in', () => {
    for (const name of OPERATION_NAMES) {
      const schema = schemas[OPERATION_DTOS[name].name];
      const defaults = Object.fromEntries(
        Object.entries(props(schema))
          .filter(([, s]) => s.default !== undefined)
          .map(([field, s]) => [field, s.default]),
      );
      // The example without its defaulted fields, then canonicalised: what came back is what was filled.
      const given = Object.fromEntries(Object.entries(schema.example as object).filter(([field]) => !(field in defaults)));
      const canonical = canonicalSpec({ operations: [given], output: {} } as unknown as TransformationSpec, 'jpeg').operations[0];
      const filled = Object.fromEntries(Object.entries(canonical).filter(([field]) => !(field in given)));
      expect({ op: name, defaults }).toEqual({ op: name, defaults: filled });
    }
    const outputDefaults = Object.entries(props(schemas.OutputSpecDto)).filter(([, s]) => s.default !== undefined);
    for (const [field, s] of outputDefaults) {
      const filledBy = OUTPUT_FORMATS.filter((format) => field in canonicalSpec({ operations: [], output: { format } }, 'jpeg').output);
      expect({ field, filledBy: filledBy.length > 0 }).toEqual({ field, filledBy: true });
      for (const format of filledBy) {
        expect({ field, format, value: (canonicalSpec({ operations: [], output: { format } }, 'jpeg').output as any)[field] }).toEqual({
          field,
          format,
          value: s.default,
        });
      }
    }
  });

  it('has query parameter examples that parseQuerySpec accepts', () => {
    for (const [key, p] of Object.entries(TRANSFORM_QUERY)) {
      const query: [string, string][] = key === 'fit' ? [['resize', '300x200']] : [];
      query.push([key, String(p.example)]);
      expect(() => parseQuerySpec(query)).not.toThrow();
    }
  });
});
