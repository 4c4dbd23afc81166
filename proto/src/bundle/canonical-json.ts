// Canonical JSON for signed manifests (proto/docs/bundles.md#canonical-json): one value has exactly one byte string,
// so one manifest has one signature and a verifier can demand the bytes it was given ARE that string. The rules are
// those of RFC 8785 (JCS) restricted to what a manifest holds: object keys sorted by UTF-16 code unit at every level
// [RFC8785-3.2.3], no whitespace, strings escaped as JSON.stringify does [RFC8785-3.2.2.2], and numbers limited to
// safe integers so no float formatting question arises.
import { ProtoError } from '../errors.js';

/** A JSON value a canonical document may hold: no floats, no null. */
export type CanonicalJsonValue = string | number | boolean | readonly CanonicalJsonValue[] | { readonly [key: string]: CanonicalJsonValue };

function fail(path: string, what: string): never {
  throw new ProtoError('PROTO_ERR_BAD_BUNDLE', `${path || 'manifest'}: ${what}`);
}

function write(value: unknown, path: string, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      // Integers only: 1, 1.0 and 1e0 are one number with three spellings, and a float's shortest form differs
      // between serializers. Object.is rejects -0, which would serialize as 0 and not round-trip.
      if (!Number.isSafeInteger(value) || Object.is(value, -0)) fail(path, `${String(value)} is not a safe integer`);
      out.push(String(value));
      return;
    case 'object': {
      if (value === null) fail(path, 'null is not allowed');
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, index) => {
          if (index > 0) out.push(',');
          write(item, `${path}[${index}]`, out);
        });
        out.push(']');
        return;
      }
      // Default sort compares UTF-16 code units, the order RFC 8785 prescribes.
      const keys = Object.keys(value).sort();
      out.push('{');
      keys.forEach((key, index) => {
        if (index > 0) out.push(',');
        out.push(JSON.stringify(key), ':');
        write((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, out);
      });
      out.push('}');
      return;
    }
    default:
      fail(path, `${typeof value} is not a JSON value`);
  }
}

/**
 * The canonical UTF-8 bytes of `value`.
 * @throws ProtoError PROTO_ERR_BAD_BUNDLE for a non-integer or unsafe number, NaN, null, undefined or a function.
 */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  const out: string[] = [];
  write(value, '', out);
  return new TextEncoder().encode(out.join(''));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses `bytes` as JSON and checks they are the canonical form of what they hold (byte for byte), so a reordered,
 * spaced, re-escaped or duplicate-key spelling of the same value is refused.
 * @throws ProtoError PROTO_ERR_BAD_BUNDLE for invalid UTF-8, invalid JSON or a non-canonical spelling.
 */
export function parseCanonicalJson(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch (error) {
    throw new ProtoError('PROTO_ERR_BAD_BUNDLE', 'manifest is not UTF-8 JSON', { cause: error });
  }
  const canonical = canonicalJsonBytes(value);
  if (!sameBytes(canonical, bytes)) throw new ProtoError('PROTO_ERR_BAD_BUNDLE', 'manifest is not in canonical JSON form');
  return value;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
