/**
 * fast-check arbitraries of JSON values from a JSON Schema (the dialect of the hub's OpenAPI document, generated from
 * its TypeBox route schemas). Valid-looking values, the edges of every bound, and — when `mutate` is on — a wrong,
 * out-of-range or hostile value in place of any node, missing required fields and extra ones.
 */
import fc from 'fast-check';
import { aroundLimit, hostileKey, hostileNode } from './hostile-values.js';
import { JsonObject, fromJsValue, type JsonNode } from './json-text.js';

/** The part of JSON Schema the hub's OpenAPI document uses. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  maxProperties?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  $ref?: string;
}

export interface SchemaArbitraryOptions {
  /** Extra candidates by property (or parameter) name — real ids, a loadable model.json — drawn 3× as often as generated values. */
  hints?: Readonly<Record<string, fc.Arbitrary<JsonNode>>>;
  /** Also generate invalid values: hostile nodes anywhere, bounds ± 1, missing required and extra properties. */
  mutate: boolean;
  /** Resolves a `$ref` (e.g. `#/components/schemas/X`). */
  resolveRef?: (ref: string) => JsonSchema | undefined;
}

/** Objects nest no deeper than this (deeper nodes become hostile scalars); keeps generation bounded. */
const MAX_DEPTH = 6;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function integerRange(schema: JsonSchema): [number, number] {
  let lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? Math.floor(schema.exclusiveMinimum) + 1 : -(2 ** 31));
  let hi = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? Math.ceil(schema.exclusiveMaximum) - 1 : 2 ** 31);
  lo = Math.max(Math.ceil(lo), -MAX_SAFE);
  hi = Math.min(Math.floor(hi), MAX_SAFE);
  return lo <= hi ? [lo, hi] : [lo, lo];
}

function integerNode(schema: JsonSchema): fc.Arbitrary<JsonNode> {
  const [lo, hi] = integerRange(schema);
  const edges = [lo, hi, ...(typeof schema.default === 'number' ? [schema.default] : [])];
  return fc.oneof(
    { arbitrary: fc.constantFrom(...edges), weight: 1 },
    { arbitrary: fc.bigInt({ min: BigInt(lo), max: BigInt(hi) }).map(Number), weight: 3 },
  );
}

function numberNode(schema: JsonSchema): fc.Arbitrary<JsonNode> {
  const min = schema.minimum ?? schema.exclusiveMinimum;
  const max = schema.maximum ?? schema.exclusiveMaximum;
  const range = fc.double({
    ...(min === undefined ? { min: -1e12 } : { min, minExcluded: schema.exclusiveMinimum !== undefined }),
    ...(max === undefined ? { max: 1e12 } : { max, maxExcluded: schema.exclusiveMaximum !== undefined }),
    noNaN: true,
    noDefaultInfinity: true,
  });
  const edges = [schema.minimum, schema.maximum, schema.default].filter((v): v is number => typeof v === 'number');
  return edges.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...edges), weight: 1 }, { arbitrary: range, weight: 3 }) : range;
}

function stringNode(schema: JsonSchema): fc.Arbitrary<JsonNode> {
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength ?? Math.max(minLength, 24);
  if (schema.format === 'date-time') {
    return fc.date({ min: new Date(0), max: new Date(Date.UTC(2200, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString());
  }
  if (schema.pattern !== undefined) {
    const re = new RegExp(schema.pattern, 'u');
    return fc.stringMatching(re).filter((s) => s.length >= minLength && s.length <= maxLength);
  }
  return fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 24) });
}

/** Out-of-bounds and wrong-type neighbours of a schema's valid values (only with `mutate`). */
function invalidEdges(schema: JsonSchema): JsonNode[] {
  const edges: JsonNode[] = [];
  for (const limit of [schema.minimum, schema.maximum, schema.exclusiveMinimum, schema.exclusiveMaximum]) {
    if (typeof limit === 'number') edges.push(...aroundLimit(limit));
  }
  if (typeof schema.maxLength === 'number') edges.push('a'.repeat(schema.maxLength + 1));
  if (typeof schema.minLength === 'number' && schema.minLength > 0) edges.push('a'.repeat(schema.minLength - 1));
  return edges;
}

function arrayNode(schema: JsonSchema, options: SchemaArbitraryOptions, depth: number): fc.Arbitrary<JsonNode> {
  const item = schemaNode(schema.items ?? {}, options, depth + 1);
  const minLength = schema.minItems ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? 5, 5));
  const valid = fc.array(item, { minLength, maxLength });
  if (!options.mutate || schema.maxItems === undefined) return valid;
  const tooMany = fc.array(item, { minLength: schema.maxItems + 1, maxLength: schema.maxItems + 1 });
  return fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: tooMany, weight: 1 });
}

function entryKey(): fc.Arbitrary<string> {
  return fc.oneof(fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/), fc.string({ minLength: 1, maxLength: 12 }));
}

function objectNode(schema: JsonSchema, options: SchemaArbitraryOptions, depth: number): fc.Arbitrary<JsonNode> {
  const required = new Set(schema.required ?? []);
  const props = Object.entries(schema.properties ?? {}).map(([key, sub]) => {
    const value = schemaNode(sub, options, depth + 1, key);
    const presence = required.has(key)
      ? options.mutate ? fc.oneof({ arbitrary: fc.constant(true), weight: 12 }, { arbitrary: fc.constant(false), weight: 1 }) : fc.constant(true)
      : fc.boolean();
    return fc.tuple(presence, value).map(([present, v]) => (present ? [[key, v] as const] : []));
  });
  const additional = schema.additionalProperties;
  let extras: fc.Arbitrary<(readonly [string, JsonNode])[]> = fc.constant([]);
  if (additional !== undefined && additional !== false) {
    const valueSchema = additional === true ? {} : additional;
    const keys = options.mutate ? fc.oneof({ arbitrary: entryKey(), weight: 4 }, { arbitrary: hostileKey, weight: 1 }) : entryKey();
    const entry = fc.tuple(keys, schemaNode(valueSchema, options, depth + 1));
    const limit = schema.maxProperties;
    extras = options.mutate && limit !== undefined
      ? fc.oneof({ arbitrary: fc.array(entry, { maxLength: 3 }), weight: 6 }, { arbitrary: fc.array(entry, { minLength: limit + 1, maxLength: limit + 1 }), weight: 1 })
      : fc.array(entry, { maxLength: 3 });
  } else if (options.mutate) {
    extras = fc.oneof(
      { arbitrary: fc.constant<(readonly [string, JsonNode])[]>([]), weight: 6 },
      { arbitrary: fc.array(fc.tuple(fc.oneof(hostileKey, entryKey()), hostileNode), { minLength: 1, maxLength: 2 }), weight: 1 },
    );
  }
  return fc.tuple(fc.tuple(...props), extras).map(([present, extra]) => new JsonObject([...present.flat(), ...extra]));
}

function mergeAllOf(schemas: JsonSchema[]): JsonSchema {
  const merged: JsonSchema = { type: 'object', properties: {}, required: [] };
  for (const s of schemas) {
    Object.assign(merged.properties!, s.properties ?? {});
    merged.required!.push(...(s.required ?? []));
    if (s.additionalProperties === false) merged.additionalProperties = false;
  }
  return merged;
}

/** Valid-looking values of `schema` (hints included), before any mutation. */
function validNode(schema: JsonSchema, options: SchemaArbitraryOptions, depth: number): fc.Arbitrary<JsonNode> {
  if (schema.$ref !== undefined) {
    const target = options.resolveRef?.(schema.$ref);
    return target ? validNode(target, options, depth) : fc.jsonValue({ maxDepth: 2 }).map(fromJsValue);
  }
  if (schema.const !== undefined) return fc.constant(fromJsValue(schema.const));
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum.map(fromJsValue));
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches !== undefined) return fc.oneof(...branches.map((b) => schemaNode(b, options, depth)));
  if (schema.allOf !== undefined) return objectNode(mergeAllOf(schema.allOf), options, depth);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
      return integerNode(schema);
    case 'number':
      return numberNode(schema);
    case 'string':
      return stringNode(schema);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return arrayNode(schema, options, depth);
    case 'object':
      return objectNode(schema, options, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 }).map(fromJsValue);
  }
}

/**
 * Values of `schema`. `name` is the property or parameter the value is for; its hint, if any, is drawn three times as
 * often as a generated value.
 */
export function schemaNode(schema: JsonSchema, options: SchemaArbitraryOptions, depth = 0, name?: string): fc.Arbitrary<JsonNode> {
  if (depth > MAX_DEPTH) return options.mutate ? hostileNode : fc.constant(null);
  let valid = validNode(schema, options, depth);
  const hint = name === undefined ? undefined : options.hints?.[name];
  if (hint) valid = fc.oneof({ arbitrary: hint, weight: 3 }, { arbitrary: valid, weight: 1 });
  if (!options.mutate) return valid;
  const edges = invalidEdges(schema);
  return fc.oneof(
    { arbitrary: valid, weight: 10 },
    { arbitrary: edges.length > 0 ? fc.constantFrom(...edges) : hostileNode, weight: 2 },
    { arbitrary: hostileNode, weight: 1 },
  );
}
