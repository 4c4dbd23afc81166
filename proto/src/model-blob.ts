// The bytes behind a model artifact (fleet.proto `ModelBlob`): a TensorFlow.js layers topology and its weights
// in manifest order. The sha256 of these bytes is the artifact's content address (`ModelRef.sha256`).
import { ProtoError } from './errors.js';
import { ModelBlob, type fedfleet } from './messages.js';
import type { TensorEncodingValue } from './encoding.js';
import { decodeWeights, encodeWeights, type DecodeTensorOptions, type EncodeTensorOptions } from './tensor-codec.js';
import type { ModelWeights } from './weights.js';

/** A model as it travels: topology plus weights. */
export interface ModelArtifact {
  /** JSON text of model.json `modelTopology` (a JSON object). */
  topologyJson: string;
  /** Weights in TensorFlow.js manifest order. */
  weights: ModelWeights;
}

function checkTopology(topologyJson: unknown): asserts topologyJson is string {
  if (typeof topologyJson !== 'string' || topologyJson.length === 0) {
    throw new ProtoError('PROTO_ERR_MALFORMED', 'model blob has no topology');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(topologyJson);
  } catch (error) {
    throw new ProtoError('PROTO_ERR_MALFORMED', 'model topology is not JSON', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ProtoError('PROTO_ERR_MALFORMED', 'model topology is not a JSON object');
  }
}

/**
 * Encodes a model artifact as `ModelBlob` bytes with every weight in `encoding` (downlink compression). INT8
 * weights of rank ≥ 2 are quantized per output channel unless `options.perChannel` is false: a model's kernels
 * differ in range from channel to channel, and one scale per tensor would spend most codes of the narrow channels
 * on the widest one's range (the reason the TFLite spec quantizes conv and dense weights per channel).
 * @throws ProtoError PROTO_ERR_MALFORMED when the topology is not a JSON object, and the errors of
 * `encodeTensor` for bad weights.
 */
export function encodeModelBlob(
  artifact: ModelArtifact,
  encoding: TensorEncodingValue,
  options: EncodeTensorOptions = {},
): Uint8Array {
  checkTopology(artifact.topologyJson);
  const weights = encodeWeights(artifact.weights, encoding, { perChannel: true, ...options });
  return ModelBlob.encode({ topologyJson: artifact.topologyJson, weights }).finish();
}

/**
 * Decodes and validates `ModelBlob` bytes. Weights come back as float32 whatever their wire encoding.
 * `maxElements` bounds the total weight count (default `DEFAULT_MAX_TENSOR_ELEMENTS`).
 * @throws ProtoError PROTO_ERR_MALFORMED for bytes that are not a ModelBlob or carry no JSON topology, and the
 * errors of `decodeTensor` (PROTO_ERR_BAD_TENSOR, PROTO_ERR_NON_FINITE) for bad weights.
 */
export function decodeModelBlob(bytes: Uint8Array, options: DecodeTensorOptions = {}): ModelArtifact {
  let blob: fedfleet.v1.ModelBlob;
  try {
    blob = ModelBlob.decode(bytes);
  } catch (error) {
    throw new ProtoError('PROTO_ERR_MALFORMED', (error as Error).message, { cause: error });
  }
  checkTopology(blob.topologyJson);
  return { topologyJson: blob.topologyJson, weights: decodeWeights(blob.weights, options) };
}
