import type { OpenAPIObject } from '@nestjs/swagger';

type Schema = Record<string, any>;

/** Rewrites one schema (and everything inside it) from OpenAPI 3.0's `nullable` to JSON Schema's `null` type. */
function toNullType(schema: Schema): void {
  for (const value of Object.values(schema)) {
    if (Array.isArray(value)) value.forEach((v) => v && typeof v === 'object' && toNullType(v));
    else if (value && typeof value === 'object') toNullType(value);
  }
  if (schema.nullable !== true) return;
  delete schema.nullable;
  const refs = schema.allOf as Schema[] | undefined;
  if (refs?.length === 1 && refs[0].$ref) {
    // `{nullable, type: object, allOf: [{$ref}]}` never admitted null under strict validators: the $ref's own
    // `type: object` still applied. A oneOf of the schema and null says what the API answers.
    delete schema.allOf;
    delete schema.type;
    schema.oneOf = [refs[0], { type: 'null' }];
  } else if (typeof schema.type === 'string') {
    schema.type = [schema.type, 'null'];
    if (Array.isArray(schema.enum)) schema.enum = [...schema.enum, null];
  } else {
    throw new Error(`a nullable schema without a type cannot be documented: ${JSON.stringify(schema)}`);
  }
}

/**
 * Publishes the document as OpenAPI 3.1, where null is a type like any other: the
 * `nullable: true` that @nestjs/swagger writes becomes `type: [T, "null"]`, and a
 * nullable reference a `oneOf` with null, so validators and generated clients agree
 * with what the API answers (a job's `error` and `result` are null until it ends).
 */
export function documentNullables(doc: OpenAPIObject): OpenAPIObject {
  doc.openapi = '3.1.0';
  for (const schema of Object.values(doc.components?.schemas ?? {})) toNullType(schema as Schema);
  toNullType(doc.paths as Schema);
  return doc;
}
