/**
 * Values a hostile or careless client sends: number tokens at and beyond every limit, numeric strings that
 * coercion turns into numbers ("Infinity", "1e309", "-0"), prototype keys, control characters and lone surrogates,
 * very long and very deep values. Every arbitrary yields {@link JsonNode}s.
 */
import fc from 'fast-check';
import { JsonObject, RawJson, type JsonNode } from './json-text.js';

/** Number tokens past what float64 or a 32/53-bit integer holds, or that only look like numbers. */
export const NUMBER_TOKENS: readonly string[] = [
  '0', '-0', '-0.0', '1', '-1', '0.5', '-0.5', '1e-400', '5e-324', '1e308', '1.7976931348623157e308', '1e309', '-1e309',
  '1E400', '2147483647', '2147483648', '-2147483649', '4294967295', '4294967296', '9007199254740991',
  '9007199254740993', '-9007199254740993', '18446744073709551616', '123456789012345678901234567890', '1.0', '1e2',
];

/** Strings that ajv type coercion or a careless `Number()` reads as numbers, and ones that almost are. */
export const NUMERIC_STRINGS: readonly string[] = [
  'Infinity', '-Infinity', '+Infinity', 'NaN', '1e309', '-1e309', '-0', '0x10', '0b11', '0o7', '1_000', ' 1', '1 ', '',
  '1e3', '.5', '5.', '+5', '00012', '١٢', '9007199254740993', '1e-400', 'null', 'true', 'undefined',
];

/** Keys that pollute prototypes or confuse lookups. */
export const HOSTILE_KEYS: readonly string[] = [
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', '$ref', '.', '..', 'a.b', 'a[0]',
];

/** Strings that break naive handling: path tricks, SQL and LIKE metacharacters, control characters, surrogates. */
export const HOSTILE_STRINGS: readonly string[] = [
  '__proto__', 'constructor', 'latest', '../../etc/passwd', '..', '/', '%', '%00', '%zz', '*', '?', '#', '\\', "'; DROP TABLE devices;--",
  '" OR 1=1 --', '\u0000', 'a\u0000b', '\ud800', '\udfff', '\ufeff', '\u202e', '😀', 'é', 'e\u0301', '\r\n', '\t', '{}', '[]',
  '<script>alert(1)</script>', 'null',
];

const rawNumber = fc.constantFrom(...NUMBER_TOKENS).map((text): JsonNode => new RawJson(text));

/** Nested `[[[…]]]` or `{"a":{"a":…}}` deep enough to overflow recursive code. */
export const deepNode: fc.Arbitrary<JsonNode> = fc
  .tuple(fc.constantFrom(64, 1_000, 20_000), fc.boolean())
  .map(([depth, arrays]) => new RawJson(arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`));

/** Any short string: ASCII, full Unicode (lone surrogates included) and the hostile ones. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_STRINGS, ...NUMERIC_STRINGS), weight: 4 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
  { arbitrary: fc.constantFrom(300, 5_000, 70_000).map((n) => 'x'.repeat(n)), weight: 1 },
);

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_KEYS), weight: 3 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
);

/** A value of any JSON type, mostly scalars, for "wrong type" mutations. */
export const hostileNode: fc.Arbitrary<JsonNode> = fc.oneof(
  { arbitrary: rawNumber, weight: 5 },
  { arbitrary: hostileString.map((s): JsonNode => s), weight: 5 },
  { arbitrary: fc.constantFrom<JsonNode>(null, true, false, [], new JsonObject([])), weight: 3 },
  { arbitrary: fc.double().map((n): JsonNode => n), weight: 1 },
  { arbitrary: fc.integer().map((n): JsonNode => [n]), weight: 1 },
  {
    arbitrary: fc.tuple(hostileKey, rawNumber).map(([k, v]): JsonNode => new JsonObject([[k, v]])),
    weight: 1,
  },
  { arbitrary: deepNode, weight: 1 },
);

/** Number nodes at and around a limit: the limit, one past it each way, and a hair past it. */
export function aroundLimit(limit: number): JsonNode[] {
  return [limit, limit - 1, limit + 1, limit - 1e-9, limit + 1e-9, new RawJson(String(limit)), String(limit)];
}
