// A small model of the API server's check of a custom resource against the CRD's structural OpenAPI v3 schema: the
// keywords the generated postgresql CRD uses (type, properties, required, additionalProperties, items, enum,
// pattern, minimum, maximum, minLength, maxLength, nullable, format cidr/uuid, anyOf, not, the x-kubernetes
// extensions), and unknown fields refused as `kubectl apply` (strict field validation) refuses them. Paths are
// written as the API server writes them: `spec.allowedSourceRanges[0]`.
import { cidrProblem } from '../../../lib/model/address';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = Record<string, any>;

/** One error: the field path and what the API server would say about it (in short). */
export interface SchemaError {
  path: string;
  message: string;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** @returns every error of `value` against `schema` at `path` */
export function checkSchema(schema: Schema, value: unknown, path: string): SchemaError[] {
  const errors: SchemaError[] = [];
  const fail = (message: string) => errors.push({ path, message });
  if (value === null) {
    if (!schema.nullable && schema.type) fail('Invalid value: "null"');
    return errors;
  }
  const actual = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (actual !== 'integer' && actual !== 'string') fail(`Invalid value: "${actual}"`);
  } else if (schema.type && schema.type !== actual && !(schema.type === 'number' && actual === 'integer')) {
    fail(`Invalid value: "${actual}": must be of type ${schema.type}`);
    return errors;
  }
  if (schema.enum && !schema.enum.includes(value)) fail(`Unsupported value: ${JSON.stringify(value)}`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern).test(value))
      fail(`Invalid value: ${JSON.stringify(value)}: should match '${schema.pattern}'`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) fail('Too long');
    if (schema.minLength !== undefined && [...value].length < schema.minLength) fail('Too short');
    if (schema.format === 'cidr' && cidrProblem(value)) fail(`Invalid value: ${JSON.stringify(value)}: must be cidr`);
    if (schema.format === 'uuid' && !UUID.test(value)) fail(`Invalid value: ${JSON.stringify(value)}: must be uuid`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      fail(`Invalid value: ${value}: should be greater than or equal to ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      fail(`Invalid value: ${value}: should be less than or equal to ${schema.maximum}`);
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((item, i) => errors.push(...checkSchema(schema.items, item, `${path}[${i}]`)));
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? [])
      if (!(key in object)) errors.push({ path: `${path}.${key}`, message: 'Required value' });
    for (const [key, child] of Object.entries(object)) {
      const sub = schema.properties?.[key] ?? (schema.additionalProperties as Schema | undefined);
      if (sub && typeof sub === 'object') errors.push(...checkSchema(sub, child, `${path}.${key}`));
      else if (schema.properties && !schema['x-kubernetes-preserve-unknown-fields'])
        errors.push({ path: `${path}.${key}`, message: `unknown field "${path}.${key}"` });
    }
  }
  if (schema.anyOf && !(schema.anyOf as Schema[]).some((s) => checkSchema(s, value, path).length === 0))
    fail('must validate at least one schema (anyOf)');
  if (schema.not && checkSchema(schema.not, value, path).length === 0) fail('must not validate the schema (not)');
  return errors;
}
