// Signed manifests (proto/docs/bundles.md): one canonical byte string per manifest, verified before it is parsed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalManifestBytes, parseManifest, signManifest, verifyManifestSignature, verifyPayload, type BundleManifest,
} from '../../src/index.js';
import { codeOf } from '../helpers/proto-error-code.js';
import { manifestFor, payload, testKey } from './bundle-fixtures.js';

const key = testKey();
const otherKey = testKey();
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('manifest signing and verification', () => {
  it('round trips: sign, verify, parse, payload check', () => {
    const m = manifestFor(key);
    const { manifest, signature } = signManifest(m, key.sign);
    expect(signature.byteLength).toBe(64);
    const verified = verifyManifestSignature(manifest, signature, key.publicKeyPem);
    expect(verified).toEqual(m);
    expect(() => verifyPayload(verified, payload)).not.toThrow();
  });

  it('canonical bytes: keys sorted at every level, no whitespace', () => {
    const s = text(canonicalManifestBytes(manifestFor(key)));
    expect(s.startsWith('{"bundleVersion":1,"createdAtMs":1700000000000,"encoding":"fp32","format":"tfjs-layers","input":{"shape":[8,8,1]},"keyId":"')).toBe(true);
    expect(s).toContain('"minProfile":{"flashBytes":300,"int8Only":false,"ramBytes":100000,"runtime":"tfjs"}');
    expect(s).not.toMatch(/\s/);
  });

  it('any single tampered manifest byte → PROTO_ERR_BAD_SIGNATURE', () => {
    const { manifest, signature } = signManifest(manifestFor(key), key.sign);
    for (let i = 0; i < manifest.byteLength; i++) {
      const tampered = manifest.slice();
      tampered[i] ^= 0x01;
      expect(codeOf(() => verifyManifestSignature(tampered, signature, key.publicKeyPem)), `byte ${i}`).toBe('PROTO_ERR_BAD_SIGNATURE');
    }
  });

  it('signed by another key → PROTO_ERR_BAD_SIGNATURE', () => {
    const { manifest, signature } = signManifest(manifestFor(key), otherKey.sign);
    expect(codeOf(() => verifyManifestSignature(manifest, signature, key.publicKeyPem))).toBe('PROTO_ERR_BAD_SIGNATURE');
  });

  it('signature truncated, empty, extended or flipped → PROTO_ERR_BAD_SIGNATURE', () => {
    const { manifest, signature } = signManifest(manifestFor(key), key.sign);
    for (let length = 0; length < signature.byteLength; length++) {
      expect(codeOf(() => verifyManifestSignature(manifest, signature.slice(0, length), key.publicKeyPem))).toBe('PROTO_ERR_BAD_SIGNATURE');
    }
    const longer = new Uint8Array([...signature, 0]);
    expect(codeOf(() => verifyManifestSignature(manifest, longer, key.publicKeyPem))).toBe('PROTO_ERR_BAD_SIGNATURE');
    const flipped = signature.slice();
    flipped[10] ^= 0x80;
    expect(codeOf(() => verifyManifestSignature(manifest, flipped, key.publicKeyPem))).toBe('PROTO_ERR_BAD_SIGNATURE');
  });

  it('a verifying key that is not an Ed25519 PEM → PROTO_ERR_BAD_SIGNATURE', () => {
    const { manifest, signature } = signManifest(manifestFor(key), key.sign);
    expect(codeOf(() => verifyManifestSignature(manifest, signature, 'not a key'))).toBe('PROTO_ERR_BAD_SIGNATURE');
  });

  it('a validly signed manifest naming another keyId → PROTO_ERR_BAD_BUNDLE', () => {
    const { manifest, signature } = signManifest(manifestFor(key, { keyId: '0123456789abcdef' }), key.sign);
    expect(codeOf(() => verifyManifestSignature(manifest, signature, key.publicKeyPem))).toBe('PROTO_ERR_BAD_BUNDLE');
  });

  it('the signature is checked before parsing: unsigned garbage is BAD_SIGNATURE, never a parse error', () => {
    const garbage = bytesOf('{"not":"canonical" }');
    expect(codeOf(() => verifyManifestSignature(garbage, new Uint8Array(64), key.publicKeyPem))).toBe('PROTO_ERR_BAD_SIGNATURE');
  });

  it('non-canonical but equivalent JSON is refused even when signed', () => {
    const m = manifestFor(key);
    const canonical = text(canonicalManifestBytes(m));
    const { keyId, ...rest } = m;
    const variants = [
      JSON.stringify({ keyId, ...rest }),                         // keys out of order
      JSON.stringify(JSON.parse(canonical), null, 1),             // whitespace
      ` ${canonical}`, `${canonical}\n`, `\uFEFF${canonical}`,  // padding, BOM
      canonical.replace('"numClasses":10', '"numClasses":10.0'),  // number spelling
      canonical.replace('"numClasses":10', '"numClasses":1e1'),
      canonical.replace('"digits"', '"\\u0064igits"'),           // escape spelling
      canonical.replace('{"bundleVersion":1,', '{"bundleVersion":1,"bundleVersion":1,'), // duplicate key
    ];
    for (const variant of variants) {
      expect(JSON.parse(variant.replace(/^\uFEFF/, ''))).toEqual(JSON.parse(canonical));
      const bytes = bytesOf(variant);
      expect(codeOf(() => parseManifest(bytes)), variant).toBe('PROTO_ERR_BAD_BUNDLE');
      expect(codeOf(() => verifyManifestSignature(bytes, key.sign(bytes), key.publicKeyPem)), variant).toBe('PROTO_ERR_BAD_BUNDLE');
    }
  });

  it('refuses unknown, missing and mistyped fields, bad hashes, negative sizes, other bundle versions', () => {
    const good = manifestFor(key) as unknown as Record<string, unknown>;
    const cases: Array<[string, Record<string, unknown>]> = [
      ['unknown key', { ...good, extra: 1 }],
      ['missing key', Object.fromEntries(Object.entries(good).filter(([k]) => k !== 'numClasses'))],
      ['unknown nested key', { ...good, payload: { ...(good.payload as object), url: 'x' } }],
      ['wrong type', { ...good, version: '3' }],
      ['float', { ...good, createdAtMs: 1.5 }],
      ['unsafe integer', { ...good, createdAtMs: 2 ** 60 }],
      ['empty id', { ...good, modelId: '' }],
      ['uppercase sha256', { ...good, payload: { sha256: 'A'.repeat(64), sizeBytes: 3 } }],
      ['short sha256', { ...good, payload: { sha256: 'a'.repeat(63), sizeBytes: 3 } }],
      ['negative size', { ...good, payload: { sha256: 'a'.repeat(64), sizeBytes: -1 } }],
      ['negative ram', { ...good, minProfile: { ...(good.minProfile as object), ramBytes: -5 } }],
      ['bundleVersion 2', { ...good, bundleVersion: 2 }],
      ['unknown format', { ...good, format: 'onnx' }],
      ['unknown encoding', { ...good, encoding: 'int4' }],
      ['zero dimension', { ...good, input: { shape: [0, 4] } }],
      ['empty shape', { ...good, input: { shape: [] } }],
      ['bad keyId', { ...good, keyId: 'xyz' }],
      ['tfjs runtime with tflite payload', { ...good, format: 'tflite' }],
      ['int8-kernels on float payload', { ...good, minProfile: { ...(good.minProfile as object), runtime: 'int8-kernels' } }],
      ['null', { ...good, modelName: null }],
    ];
    for (const [name, value] of cases) {
      const bytes = bytesOf(JSON.stringify(sortKeys(value)));
      expect(codeOf(() => parseManifest(bytes)), name).toBe('PROTO_ERR_BAD_BUNDLE');
      expect(codeOf(() => canonicalManifestBytes(value as unknown as BundleManifest)), name).toBe('PROTO_ERR_BAD_BUNDLE');
    }
    const huge = bytesOf(JSON.stringify(sortKeys({ ...good, modelName: 'x'.repeat(20_000) })));
    expect(codeOf(() => parseManifest(huge))).toBe('PROTO_ERR_BAD_BUNDLE');
  });

  it('payload with a wrong hash, truncated or extended → PROTO_ERR_BAD_PAYLOAD', () => {
    const m = manifestFor(key);
    const wrong = payload.slice();
    wrong[5] ^= 1;
    expect(codeOf(() => verifyPayload(m, wrong))).toBe('PROTO_ERR_BAD_PAYLOAD');
    expect(codeOf(() => verifyPayload(m, payload.slice(0, payload.byteLength - 1)))).toBe('PROTO_ERR_BAD_PAYLOAD');
    expect(codeOf(() => verifyPayload(m, new Uint8Array([...payload, 0])))).toBe('PROTO_ERR_BAD_PAYLOAD');
    expect(codeOf(() => verifyPayload(m, new Uint8Array(0)))).toBe('PROTO_ERR_BAD_PAYLOAD');
  });

  it('parseManifest on random bytes and random JSON throws ProtoError only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      expect(codeOf(() => parseManifest(bytes))).toBe('PROTO_ERR_BAD_BUNDLE');
    }), { numRuns: 500, seed: 10 });
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      expect(codeOf(() => parseManifest(bytesOf(JSON.stringify(value))))).toBe('PROTO_ERR_BAD_BUNDLE');
    }), { numRuns: 500, seed: 11 });
  });
});

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  return value;
}
