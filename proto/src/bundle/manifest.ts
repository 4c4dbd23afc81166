// The bundle manifest (DESIGN section 5, proto/docs/bundles.md#manifest): what a device checks before it runs a
// payload — which model and version, in which format and encoding, the payload's size and sha256, and the minimum
// device profile. The hub signs its canonical JSON bytes (./signature.ts); parseManifest validates every field.
import { ProtoError } from '../errors.js';
import { ENCODINGS, type Encoding } from '../encoding.js';
import { canonicalJsonBytes, parseCanonicalJson } from './canonical-json.js';

export const BUNDLE_MAGIC = 'fedfleet-bundle';
/** The manifest layout this version writes and reads. */
export const BUNDLE_VERSION = 1;
/** Largest manifest accepted: a manifest is a few hundred bytes, so anything near this is not one. */
export const MAX_MANIFEST_BYTES = 16 * 1024;

/** Payload formats: `tfjs-layers` = ModelBlob protobuf bytes (model-blob.ts); `tflite` = an int8 .tflite flatbuffer. */
export const BUNDLE_FORMATS = ['tfjs-layers', 'tflite'] as const;
export type BundleFormat = (typeof BUNDLE_FORMATS)[number];
/** Runtimes: `tfjs` = TensorFlow.js (agents); `int8-kernels` = fedfleet's integer-only kernels (agents and MCUs). */
export const BUNDLE_RUNTIMES = ['tfjs', 'int8-kernels'] as const;
export type BundleRuntime = (typeof BUNDLE_RUNTIMES)[number];

export interface BundleManifest {
  bundleVersion: 1;
  modelId: string;
  modelName: string;
  versionId: string;
  /** The registry's version number (1, 2, … per model). */
  version: number;
  format: BundleFormat;
  encoding: Encoding;
  /** `sha256`: lowercase hex of the payload bytes. */
  payload: { sha256: string; sizeBytes: number };
  /**
   * What a device needs to run the payload. `int8Only` = the payload runs on integer-only devices; `ramBytes` /
   * `flashBytes` = the tensor arena and flash of the MCU resource model for int8 .tflite, a stated estimate for
   * tfjs payloads (proto/docs/bundles.md#minimum-profile).
   */
  minProfile: { ramBytes: number; flashBytes: number; int8Only: boolean; runtime: BundleRuntime };
  /** One example's input shape without the batch dimension: /predict takes the product of it as floats. */
  input: { shape: number[] };
  numClasses: number;
  createdAtMs: number;
  /** First 16 hex chars of the sha256 of the signing public key's SPKI DER (./signature.ts publicKeyId). */
  keyId: string;
}

const MAX_ID_CHARS = 128;
const MAX_INPUT_RANK = 8;
const MAX_INPUT_ELEMENTS = 1 << 24;
const MAX_CLASSES = 1 << 16;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY_ID_HEX = /^[0-9a-f]{16}$/;

type Json = Record<string, unknown>;

function bad(detail: string): never {
  throw new ProtoError('PROTO_ERR_BAD_BUNDLE', detail);
}

/** `value` as an object with exactly `keys` (no unknown, no missing). */
function exactObject(value: unknown, path: string, keys: readonly string[]): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(`${path} is not an object`);
  const have = Object.keys(value);
  const unknown = have.filter((key) => !keys.includes(key));
  if (unknown.length > 0) bad(`${path} has unknown key(s) ${unknown.join(', ')}`);
  const missing = keys.filter((key) => !have.includes(key));
  if (missing.length > 0) bad(`${path} lacks ${missing.join(', ')}`);
  return value as Json;
}

function text(obj: Json, key: string, path: string, pattern?: RegExp): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_CHARS) bad(`${path}${key} is not a string of 1..${MAX_ID_CHARS} chars`);
  if (pattern && !pattern.test(value)) bad(`${path}${key} does not match ${pattern.source}`);
  return value;
}

function integer(obj: Json, key: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) bad(`${path}${key} is not an integer in [${min}, ${max}]`);
  return value;
}

function oneOf<T extends string>(obj: Json, key: string, path: string, allowed: readonly T[]): T {
  const value = obj[key];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) bad(`${path}${key} is not one of ${allowed.join(', ')}`);
  return value as T;
}

function inputShape(value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_INPUT_RANK) bad(`input.shape is not an array of 1..${MAX_INPUT_RANK} dimensions`);
  let elements = 1;
  for (const dim of value) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 1) bad('input.shape has a dimension that is not a positive integer');
    elements *= dim;
  }
  if (elements > MAX_INPUT_ELEMENTS) bad(`input.shape has ${elements} elements > ${MAX_INPUT_ELEMENTS}`);
  return value as number[];
}

const MANIFEST_KEYS = ['bundleVersion', 'modelId', 'modelName', 'versionId', 'version', 'format', 'encoding', 'payload', 'minProfile', 'input', 'numClasses', 'createdAtMs', 'keyId'] as const;

/** Every field and the cross-field rules of proto/docs/bundles.md#manifest; returns a fresh, fully typed copy. */
function validate(value: unknown): BundleManifest {
  const m = exactObject(value, 'manifest', MANIFEST_KEYS);
  if (m.bundleVersion !== BUNDLE_VERSION) bad(`bundleVersion ${JSON.stringify(m.bundleVersion)} is not supported (this version reads ${BUNDLE_VERSION})`);
  const payload = exactObject(m.payload, 'payload', ['sha256', 'sizeBytes']);
  const profile = exactObject(m.minProfile, 'minProfile', ['ramBytes', 'flashBytes', 'int8Only', 'runtime']);
  const input = exactObject(m.input, 'input', ['shape']);
  if (typeof profile.int8Only !== 'boolean') bad('minProfile.int8Only is not a boolean');
  const manifest: BundleManifest = {
    bundleVersion: BUNDLE_VERSION,
    modelId: text(m, 'modelId', ''),
    modelName: text(m, 'modelName', ''),
    versionId: text(m, 'versionId', ''),
    version: integer(m, 'version', '', 1),
    format: oneOf(m, 'format', '', BUNDLE_FORMATS),
    encoding: oneOf(m, 'encoding', '', ENCODINGS),
    payload: { sha256: text(payload, 'sha256', 'payload.', SHA256_HEX), sizeBytes: integer(payload, 'sizeBytes', 'payload.', 1) },
    minProfile: {
      ramBytes: integer(profile, 'ramBytes', 'minProfile.', 0),
      flashBytes: integer(profile, 'flashBytes', 'minProfile.', 0),
      int8Only: profile.int8Only,
      runtime: oneOf(profile, 'runtime', 'minProfile.', BUNDLE_RUNTIMES),
    },
    input: { shape: [...inputShape(input.shape)] },
    numClasses: integer(m, 'numClasses', '', 1, MAX_CLASSES),
    createdAtMs: integer(m, 'createdAtMs', '', 0),
    keyId: text(m, 'keyId', '', KEY_ID_HEX),
  };
  // Which runtime runs which payload: TensorFlow.js runs layers models, the integer kernels run int8 .tflite files.
  // A manifest that says otherwise would make a device load a payload with the wrong runtime.
  const { format, encoding, minProfile } = manifest;
  if (minProfile.runtime === 'tfjs' && (format !== 'tfjs-layers' || minProfile.int8Only)) bad('runtime tfjs runs tfjs-layers payloads on float-capable devices only');
  if (minProfile.runtime === 'int8-kernels' && (format !== 'tflite' || encoding !== 'int8' || !minProfile.int8Only)) bad('runtime int8-kernels runs int8 tflite payloads only (int8Only true)');
  return manifest;
}

/**
 * The canonical JSON bytes of `m` (keys sorted at every level, no whitespace, UTF-8): the bytes the hub signs.
 * @throws ProtoError PROTO_ERR_BAD_BUNDLE when `m` is not a valid manifest (one is never produced that would be refused).
 */
export function canonicalManifestBytes(m: BundleManifest): Uint8Array {
  const bytes = canonicalJsonBytes(validate(m));
  if (bytes.byteLength > MAX_MANIFEST_BYTES) bad(`manifest is ${bytes.byteLength} bytes > ${MAX_MANIFEST_BYTES}`);
  return bytes;
}

/**
 * Parses and validates manifest bytes: size, UTF-8 JSON in exactly canonical form, every field present with its type
 * and range, no unknown key, a supported bundleVersion. Call it only on bytes whose signature verified
 * (verifyManifestSignature does both).
 * @throws ProtoError PROTO_ERR_BAD_BUNDLE
 */
export function parseManifest(bytes: Uint8Array): BundleManifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) bad(`manifest is ${bytes.byteLength} bytes > ${MAX_MANIFEST_BYTES}`);
  return validate(parseCanonicalJson(bytes));
}
