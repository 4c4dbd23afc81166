// Binary form of server-optimizer state (FedAvgM momentum, FedAdam moments), stored between rounds and across
// hub restarts. Float64 throughout so that save → load continues bit-identically.
//
// Layout, little-endian:
//   0  4 bytes  magic "FFSO"
//   4  u8       format version (1)
//   5  u8       kind (which optimizer wrote it)
//   6  u16      vector count V (1 for momentum, 2 for Adam's m and v)
//   8  u32      tensor count T
//  12  u32 × T  tensor sizes (elements)
//      pad to a multiple of 8
//      f64 × V × Σsizes: vector 0 tensor 0, vector 0 tensor 1, …, vector 1 tensor 0, …
import type { ModelWeights } from '@fedfleet/proto';
import { StrategyError } from './errors.js';

const MAGIC = [0x46, 0x46, 0x53, 0x4f]; // "FFSO"
const FORMAT_VERSION = 1;

/** Which optimizer a state belongs to; loading one optimizer's state into another is refused. */
export const SERVER_STATE_KIND = { fedavgm: 1, fedadam: 2 } as const;
export type ServerStateKind = (typeof SERVER_STATE_KIND)[keyof typeof SERVER_STATE_KIND];

/** Optimizer vectors: `vectors[v][t]` = vector v (e.g. Adam's m, v) for global tensor t. */
export type StateVectors = Float64Array[][];

function bad(detail: string): StrategyError {
  return new StrategyError('HUB_ERR_STRATEGY_STATE', detail);
}

export function encodeServerState(kind: ServerStateKind, vectors: StateVectors): Uint8Array {
  const sizes = vectors[0].map((a) => a.length);
  const total = sizes.reduce((a, b) => a + b, 0);
  const headerBytes = Math.ceil((12 + 4 * sizes.length) / 8) * 8;
  const bytes = new Uint8Array(headerBytes + vectors.length * total * 8);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint8(4, FORMAT_VERSION);
  view.setUint8(5, kind);
  view.setUint16(6, vectors.length, true);
  view.setUint32(8, sizes.length, true);
  sizes.forEach((size, t) => view.setUint32(12 + 4 * t, size, true));
  let offset = headerBytes;
  for (const vector of vectors) {
    for (const tensor of vector) {
      for (let i = 0; i < tensor.length; i++) view.setFloat64(offset + 8 * i, tensor[i], true);
      offset += 8 * tensor.length;
    }
  }
  return bytes;
}

/**
 * Decodes state written by {@link encodeServerState}, checking magic, version, kind, vector count and that
 * the length matches the header exactly. Accepts any byteOffset (e.g. a Buffer from SQLite).
 * @throws StrategyError HUB_ERR_STRATEGY_STATE.
 */
export function decodeServerState(bytes: Uint8Array, kind: ServerStateKind, vectorCount: number): StateVectors {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 12) throw bad('too short');
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw bad('not a fedfleet optimizer state');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(4) !== FORMAT_VERSION) throw bad(`format version ${view.getUint8(4)}`);
  if (view.getUint8(5) !== kind) throw bad(`state of optimizer kind ${view.getUint8(5)}, expected ${kind}`);
  if (view.getUint16(6, true) !== vectorCount) throw bad(`${view.getUint16(6, true)} vectors, expected ${vectorCount}`);
  const tensorCount = view.getUint32(8, true);
  const headerBytes = Math.ceil((12 + 4 * tensorCount) / 8) * 8;
  if (bytes.byteLength < headerBytes) throw bad('truncated header');
  const sizes: number[] = [];
  let total = 0;
  for (let t = 0; t < tensorCount; t++) {
    const size = view.getUint32(12 + 4 * t, true);
    sizes.push(size);
    total += size;
  }
  if (bytes.byteLength !== headerBytes + vectorCount * total * 8) throw bad(`length ${bytes.byteLength} does not match header`);
  const vectors: StateVectors = [];
  let offset = headerBytes;
  for (let v = 0; v < vectorCount; v++) {
    const vector: Float64Array[] = [];
    for (const size of sizes) {
      const tensor = new Float64Array(size);
      for (let i = 0; i < size; i++) {
        const x = view.getFloat64(offset + 8 * i, true);
        if (x - x !== 0) throw bad('non-finite value');
        tensor[i] = x;
      }
      offset += 8 * size;
      vector.push(tensor);
    }
    vectors.push(vector);
  }
  return vectors;
}

/**
 * Checks that optimizer vectors fit the global model's tensors.
 * @throws StrategyError HUB_ERR_STRATEGY_STATE when the model changed under the state.
 */
export function checkStateFits(vectors: StateVectors, global: ModelWeights): void {
  const vector = vectors[0];
  const fits = vector.length === global.length && vector.every((a, t) => a.length === global[t].data.length);
  if (!fits) {
    throw bad(`state for ${vector.length} tensors does not fit a model of ${global.length}; reset it with loadState(null)`);
  }
}
