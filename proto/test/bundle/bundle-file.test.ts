// The one-file bundle (fleet.proto ModelBundle): untrusted bytes from disk give PROTO_ERR_BAD_BUNDLE and nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_MAGIC, ModelBundle, decodeBundleFile, encodeBundleFile, signManifest, verifyManifestSignature, verifyPayload,
} from '../../src/index.js';
import { codeOf } from '../helpers/proto-error-code.js';
import { manifestFor, payload, testKey } from './bundle-fixtures.js';

const key = testKey();
const signed = signManifest(manifestFor(key), key.sign);
const file = encodeBundleFile({ ...signed, payload });

describe('bundle file', () => {
  it('round trips and verifies', () => {
    const parts = decodeBundleFile(file);
    expect(parts.manifest).toEqual(signed.manifest);
    expect(parts.signature).toEqual(signed.signature);
    expect(parts.payload).toEqual(payload);
    const m = verifyManifestSignature(parts.manifest, parts.signature, key.publicKeyPem);
    expect(() => verifyPayload(m, parts.payload)).not.toThrow();
  });

  it('wrong or missing magic → PROTO_ERR_BAD_BUNDLE', () => {
    for (const magic of ['fedfleet-bundlf', '', 'FEDFLEET-BUNDLE']) {
      const bytes = ModelBundle.encode({ magic, ...signed, payload }).finish();
      expect(codeOf(() => decodeBundleFile(bytes)), magic).toBe('PROTO_ERR_BAD_BUNDLE');
    }
    expect(BUNDLE_MAGIC).toBe('fedfleet-bundle');
  });

  it('empty parts and oversize files → PROTO_ERR_BAD_BUNDLE', () => {
    const noPayload = encodeBundleFile({ ...signed, payload: new Uint8Array(0) });
    expect(codeOf(() => decodeBundleFile(noPayload))).toBe('PROTO_ERR_BAD_BUNDLE');
    const noManifest = encodeBundleFile({ ...signed, manifest: new Uint8Array(0), payload });
    expect(codeOf(() => decodeBundleFile(noManifest))).toBe('PROTO_ERR_BAD_BUNDLE');
    const bigSignature = encodeBundleFile({ ...signed, signature: new Uint8Array(2000), payload });
    expect(codeOf(() => decodeBundleFile(bigSignature))).toBe('PROTO_ERR_BAD_BUNDLE');
    expect(codeOf(() => decodeBundleFile(file, { maxBytes: file.byteLength - 1 }))).toBe('PROTO_ERR_BAD_BUNDLE');
  });

  it('truncated at every length: refused with a ProtoError, or its parts fail verification', () => {
    for (let length = 0; length < file.byteLength; length++) {
      const truncated = file.slice(0, length);
      let parts: ReturnType<typeof decodeBundleFile>;
      try {
        parts = decodeBundleFile(truncated);
      } catch (error) {
        expect(codeOf(() => { throw error; }), `length ${length}`).toBe('PROTO_ERR_BAD_BUNDLE');
        continue;
      }
      // A cut that falls exactly between fields decodes, but the missing part cannot verify.
      const code = codeOf(() => verifyPayload(verifyManifestSignature(parts.manifest, parts.signature, key.publicKeyPem), parts.payload));
      expect(['PROTO_ERR_BAD_SIGNATURE', 'PROTO_ERR_BAD_PAYLOAD'], `length ${length}`).toContain(code);
    }
  });

  it('random bytes throw ProtoError only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1024 }), (bytes) => {
      expect(codeOf(() => decodeBundleFile(bytes))).toBe('PROTO_ERR_BAD_BUNDLE');
    }), { numRuns: 1000, seed: 12 });
    // Mutations of a valid file: flips anywhere decode or are refused with a code, never another exception.
    fc.assert(fc.property(fc.nat(file.byteLength - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const mutated = file.slice();
      mutated[at] ^= xor;
      const code = codeOf(() => {
        const parts = decodeBundleFile(mutated);
        verifyPayload(verifyManifestSignature(parts.manifest, parts.signature, key.publicKeyPem), parts.payload);
      });
      expect(['PROTO_ERR_BAD_BUNDLE', 'PROTO_ERR_BAD_SIGNATURE', 'PROTO_ERR_BAD_PAYLOAD']).toContain(code);
    }), { numRuns: 500, seed: 13 });
  });
});
