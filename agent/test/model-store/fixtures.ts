/**
 * Bundles for model-store tests without a hub and without TensorFlow.js: a 4-input, 4-class int8 .tflite model whose
 * class is the arg-max of its input (a "good" model: accuracy 1 on {@link heldOut}) or the next one (a "bad" model:
 * accuracy 0), signed with a fresh Ed25519 key. Shared by the in-process tests and the child process of the kill test.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  mulberry32, buildInt8Graph, calibrateRanges, encodeTfliteInt8, publicKeyId, signManifest, type BundleManifest, type FloatModel,
  type HardwareProfileProps,
} from '@fedfleet/proto';
import type { SelfTestExample } from '../../src/model-store/types.js';

export const CLASSES = 4;
export const DEVICE: HardwareProfileProps = { kind: 'test-board', ramBytes: 256 * 1024, flashBytes: 1024 * 1024, int8Only: false, canTrain: false };

export interface TestKey {
  privateKey: KeyObject;
  publicKeyPem: string;
}

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * `count` examples labelled by the arg-max of their 4 values, which leads the others by at least 0.1 so that input
 * quantization (1/255 steps) never changes the winner.
 */
export function heldOut(count = 64, seed = 7): SelfTestExample[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const label = Math.floor(random() * CLASSES);
    const x = Float32Array.from({ length: CLASSES }, () => random() * 0.8);
    x[label] = 0.9 + random() * 0.1;
    return { x, label };
  });
}

/**
 * The int8 .tflite bytes of a one-layer model: kernel = gain × a permutation (identity when `shift` is 0, so the
 * class is the arg-max; shift 1 predicts the next class). Different gains give different payload bytes.
 */
export function int8Payload(gain: number, shift = 0): Uint8Array {
  const kernel = new Float32Array(CLASSES * CLASSES);
  for (let i = 0; i < CLASSES; i++) kernel[i * CLASSES + ((i + shift) % CLASSES)] = gain;
  const model: FloatModel = {
    inputShape: [CLASSES],
    layers: [{ kind: 'dense', name: 'dense', kernel, bias: new Float32Array(CLASSES), units: CLASSES, activation: 'none' }],
  };
  return encodeTfliteInt8(buildInt8Graph(model, calibrateRanges(model, heldOut(32, 3).map((e) => e.x))));
}

export interface TestBundle {
  manifest: Uint8Array;
  signature: Uint8Array;
  payload: Uint8Array;
  parsed: BundleManifest;
}

/** A signed bundle of `payload` as version `versionId`; `overrides` change manifest fields before signing. */
export function testBundle(key: TestKey, versionId: string, payload: Uint8Array, overrides: Partial<BundleManifest> = {}): TestBundle {
  const parsed: BundleManifest = {
    bundleVersion: 1, modelId: 'model-1', modelName: 'argmax', versionId, version: Number(versionId.replace(/\D/g, '')) || 1,
    format: 'tflite', encoding: 'int8',
    payload: { sha256: createHash('sha256').update(payload).digest('hex'), sizeBytes: payload.byteLength },
    minProfile: { ramBytes: 4096, flashBytes: 8192, int8Only: true, runtime: 'int8-kernels' },
    input: { shape: [CLASSES] }, numClasses: CLASSES, createdAtMs: 1_700_000_000_000, keyId: publicKeyId(key.publicKeyPem),
    ...overrides,
  };
  const signed = signManifest(parsed, (data) => sign(null, data, key.privateKey));
  return { ...signed, payload, parsed };
}
