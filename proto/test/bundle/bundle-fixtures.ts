import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { publicKeyId, type BundleManifest } from '../../src/index.js';

export interface TestKey {
  publicKeyPem: string;
  sign(data: Uint8Array): Uint8Array;
}

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), sign: (data) => sign(null, data, privateKey) };
}

export const payload = new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));

/** A valid tfjs-layers manifest for `payload`, signed by `key`. */
export function manifestFor(key: TestKey, patch: Partial<BundleManifest> = {}): BundleManifest {
  return {
    bundleVersion: 1, modelId: 'm-1', modelName: 'digits', versionId: 'v-1', version: 3,
    format: 'tfjs-layers', encoding: 'fp32',
    payload: { sha256: createHash('sha256').update(payload).digest('hex'), sizeBytes: payload.byteLength },
    minProfile: { ramBytes: 100_000, flashBytes: 300, int8Only: false, runtime: 'tfjs' },
    input: { shape: [8, 8, 1] }, numClasses: 10, createdAtMs: 1_700_000_000_000,
    keyId: publicKeyId(key.publicKeyPem), ...patch,
  };
}

/** An int8 tflite manifest (runs on MCUs). */
export function int8ManifestFor(key: TestKey, patch: Partial<BundleManifest> = {}): BundleManifest {
  return manifestFor(key, {
    format: 'tflite', encoding: 'int8',
    minProfile: { ramBytes: 300 * 1024, flashBytes: 200 * 1024, int8Only: true, runtime: 'int8-kernels' }, ...patch,
  });
}
