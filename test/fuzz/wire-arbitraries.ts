/**
 * Arbitraries of the wire contract: weight tensors, valid Envelopes of every body the hub receives, and byte-level
 * damage to valid encodings — a byte overwritten, a truncation, bytes inserted, and a length prefix inflated (the
 * classic way to make a decoder allocate or read past the end).
 */
import fc from 'fast-check';
import {
  DeviceState, TensorEncoding, encodeTensor, type EnvelopeProps, type TensorEncodingValue, type TensorProps, type WeightTensor,
} from '@fedfleet/proto';

export const ENCODINGS: readonly TensorEncodingValue[] = [
  TensorEncoding.TENSOR_ENCODING_FP32, TensorEncoding.TENSOR_ENCODING_FP16, TensorEncoding.TENSOR_ENCODING_INT8,
];

/** Finite float32 values that fp16 can carry too (|x| < 65520), with −0 and subnormals. */
const weightValue = fc.float({ min: -60_000, max: 60_000, noNaN: true });

export const shapeArb: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 3 });

export const weightTensorArb: fc.Arbitrary<WeightTensor> = fc
  .tuple(fc.string({ maxLength: 12 }), shapeArb)
  .chain(([name, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return fc.array(weightValue, { minLength: size, maxLength: size }).map((values) => ({ name, shape, data: Float32Array.from(values) }));
  });

export const encodedTensorsArb: fc.Arbitrary<TensorProps[]> = fc
  .tuple(fc.array(weightTensorArb, { maxLength: 4 }), fc.constantFrom(...ENCODINGS), fc.boolean())
  .map(([weights, encoding, perChannel]) => weights.map((w) => encodeTensor(w, encoding, { perChannel })));

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/);

/** Valid Envelopes with each body a device publishes or the hub sends. */
export const envelopePropsArb: fc.Arbitrary<EnvelopeProps> = fc.record({
  msgId: id,
  deviceId: id,
  sentAtMs: fc.nat(),
  body: fc.oneof(
    fc.record({ status: fc.record({ state: fc.constantFrom(DeviceState.DEVICE_STATE_ONLINE, DeviceState.DEVICE_STATE_OFFLINE), agentVersion: fc.string(), trainExamples: fc.nat() }) }),
    fc.record({ telemetry: fc.record({ cpuPercent: fc.double(), memTotalBytes: fc.nat(), temperatureC: fc.double(), charging: fc.boolean() }) }),
    fc.record({ weightUpdate: fc.record({ roundId: id, commandId: id, baseVersionId: id, exampleCount: fc.nat(), tensors: encodedTensorsArb }) }),
    fc.record({ chunkRequest: fc.record({ sha256: fc.string({ maxLength: 64 }), index: fc.nat(), chunkSize: fc.nat() }) }),
    fc.record({ chunk: fc.record({ sha256: fc.string({ maxLength: 64 }), index: fc.nat(), data: fc.uint8Array({ maxLength: 64 }) }) }),
  ),
}).map(({ body, ...rest }) => ({ ...rest, ...body }));

/** Offsets of varints that protobuf reads as lengths (wire type 2), found by walking nested messages. */
export function lengthPrefixOffsets(bytes: Uint8Array): number[] {
  const offsets: number[] = [];
  const walk = (start: number, end: number, depth: number): void => {
    let pos = start;
    while (pos < end) {
      const tag = readVarint(bytes, pos, end);
      if (!tag) return;
      pos = tag.next;
      const wireType = tag.value % 8;
      if (wireType === 0) {
        const v = readVarint(bytes, pos, end);
        if (!v) return;
        pos = v.next;
      } else if (wireType === 1) pos += 8;
      else if (wireType === 5) pos += 4;
      else if (wireType === 2) {
        const length = readVarint(bytes, pos, end);
        if (!length || length.next + length.value > end) return;
        offsets.push(pos);
        // The field may be a nested message: walk it too (a string or bytes field just stops the walk early).
        if (depth < 8) walk(length.next, length.next + length.value, depth + 1);
        pos = length.next + length.value;
      } else return;
    }
  };
  walk(0, bytes.length, 0);
  return offsets;
}

function readVarint(bytes: Uint8Array, pos: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let shift = 0, i = pos; i < end && shift < 70; shift += 7, i++) {
    value += (bytes[i]! & 0x7f) * 2 ** shift;
    if ((bytes[i]! & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

function writeVarint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

/** Lengths a hostile sender claims: one past, far past, and the 32- and 64-bit limits. */
const INFLATED_LENGTHS = [1n, 1000n, 2n ** 31n - 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 2n ** 64n - 1n];

export type ByteMutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'inflate-length'; which: number; extra: bigint };

export const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('inflate-length' as const), which: fc.nat(), extra: fc.constantFrom(...INFLATED_LENGTHS) }),
);

/** `bytes` with `mutations` applied in order (positions taken modulo the current length). */
export function mutateBytes(bytes: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  let out = Array.from(bytes);
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : ('at' in m ? m.at : 0) % (out.length + 1);
    if (m.kind === 'set' && out.length > 0) out[at % out.length] = m.value;
    else if (m.kind === 'truncate') out = out.slice(0, at);
    else if (m.kind === 'insert') out.splice(at, 0, ...m.bytes);
    else if (m.kind === 'inflate-length') {
      const current = Uint8Array.from(out);
      const offsets = lengthPrefixOffsets(current);
      if (offsets.length === 0) continue;
      const offset = offsets[m.which % offsets.length]!;
      const old = readVarint(current, offset, current.length)!;
      out.splice(offset, old.next - offset, ...writeVarint(BigInt(old.value) + m.extra));
    }
  }
  return Uint8Array.from(out);
}
