/**
 * Property-based tests of the decoders that read untrusted bytes (issue 7, DESIGN §2): `decodeEnvelope`,
 * `decodeTensor` / `decodeWeights` and `decodeModelBlob`. For arbitrary bytes, and for valid encodings with bytes
 * overwritten, truncated, inserted or a length prefix inflated, a decoder either returns a value that keeps its
 * invariants (known body, shapes that match the data, finite weights, no more elements than allowed, memory of its
 * own) or throws a ProtoError with a registered PROTO_ERR_* code — never another error. Valid values round-trip.
 *
 * These are cheap, so each property runs 40 × `FEDFLEET_FUZZ_RUNS` cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BODIES_BY_TOPIC, DEFAULT_MAX_TENSOR_ELEMENTS, DEVICE_TOPIC_KINDS, Envelope, ModelBlob, PROTO_ERROR_CODES, TensorEncoding, decodeEnvelope,
  decodeModelBlob, decodeTensor, decodeWeights, encodeEnvelope, encodeModelBlob, encodeTensor, float16ToFloat32, float32ToFloat16,
  isProtoError, type DecodeOptions, type ModelWeights, type TensorProps, type WeightTensor,
} from '@fedfleet/proto';
import { FUZZ_SETTINGS, fuzzParameters, fuzzTimeoutMs } from './fuzz-settings.js';
import { ENCODINGS, byteMutationArb, encodedTensorsArb, envelopePropsArb, mutateBytes, weightTensorArb } from './wire-arbitraries.js';

const SCALE = 40;
const params = <T>() => fuzzParameters<T>(SCALE);
const TIMEOUT_MS = fuzzTimeoutMs(FUZZ_SETTINGS.runs * SCALE, 5, 10_000);

const BODY_KINDS = new Set(Object.values(BODIES_BY_TOPIC).flat());

/** Runs `decode`: a thrown error must be a registered ProtoError; a returned value goes to `check`. */
function decodedOrProtoError<T>(decode: () => T, check: (value: T) => void): void {
  let value: T;
  try {
    value = decode();
  } catch (error) {
    if (!isProtoError(error)) {
      throw new Error(`threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`, { cause: error });
    }
    expect(Object.hasOwn(PROTO_ERROR_CODES, error.code), error.code).toBe(true);
    return;
  }
  check(value);
}

function checkWeights(weights: ModelWeights, maxElements: number, input?: Uint8Array): void {
  let total = 0;
  for (const w of weights) {
    expect(typeof w.name).toBe('string');
    expect(w.shape.every((d) => Number.isInteger(d) && d >= 0), `shape ${w.shape}`).toBe(true);
    expect(w.data).toBeInstanceOf(Float32Array);
    expect(w.shape.reduce((a, b) => a * b, 1)).toBe(w.data.length);
    expect(w.data.every((v) => Number.isFinite(v)), `${w.name} has a non-finite value`).toBe(true);
    if (input) expect(w.data.buffer).not.toBe(input.buffer);
    total += w.data.length;
  }
  expect(total).toBeLessThanOrEqual(maxElements);
}

function checkEnvelope(bytes: Uint8Array, options: DecodeOptions): void {
  decodedOrProtoError(() => decodeEnvelope(bytes, options), (envelope) => {
    expect(bytes.byteLength).toBeLessThanOrEqual(options.maxBytes ?? Number.POSITIVE_INFINITY);
    expect(typeof envelope.msgId).toBe('string');
    expect(typeof envelope.deviceId).toBe('string');
    expect(typeof envelope.sentAtMs === 'number' && Number.isFinite(envelope.sentAtMs) && envelope.sentAtMs >= 0).toBe(true);
    expect(BODY_KINDS.has(envelope.body)).toBe(true);
    expect(envelope[envelope.body]).not.toBeNull();
    if (options.deviceId !== undefined) expect(envelope.deviceId).toBe(options.deviceId);
    if (options.topicKind !== undefined) expect(BODIES_BY_TOPIC[options.topicKind]).toContain(envelope.body);
    const update = envelope.weightUpdate;
    if (update) {
      const maxElements = 1000;
      decodedOrProtoError(() => decodeWeights(update.tensors ?? [], { maxElements }), (weights) => checkWeights(weights, maxElements, bytes));
    }
  });
}

const decodeOptionsArb: fc.Arbitrary<DecodeOptions> = fc.record(
  {
    maxBytes: fc.constantFrom(0, 8, 64, 1024),
    deviceId: fc.constantFrom('dev-1', ''),
    topicKind: fc.constantFrom(...DEVICE_TOPIC_KINDS),
  },
  { requiredKeys: [] },
);

describe('decodeEnvelope on untrusted bytes', () => {
  it('arbitrary bytes decode to a valid envelope or a ProtoError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), decodeOptionsArb, (bytes, options) => checkEnvelope(bytes, options)), params());
  }, TIMEOUT_MS);

  it('damaged valid envelopes (bytes set, truncated, inserted, length prefixes inflated) decode or fail with a ProtoError', () => {
    const damaged = fc.tuple(envelopePropsArb, fc.array(byteMutationArb, { minLength: 1, maxLength: 4 }), decodeOptionsArb);
    fc.assert(fc.property(damaged, ([props, mutations, options]) => {
      checkEnvelope(mutateBytes(encodeEnvelope(props), mutations), options);
    }), params());
  }, TIMEOUT_MS);

  it('refuses anything over maxBytes before decoding it', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.nat(), (bytes, slack) => {
      const maxBytes = slack % bytes.length;
      expect(() => decodeEnvelope(bytes, { maxBytes })).toThrow(expect.objectContaining({ code: 'PROTO_ERR_TOO_LARGE' }));
    }), params());
  }, TIMEOUT_MS);

  it('valid envelopes round-trip: decoding then re-encoding gives the same bytes', () => {
    fc.assert(fc.property(envelopePropsArb, (props) => {
      const bytes = encodeEnvelope(props);
      const decoded = decodeEnvelope(bytes, { deviceId: props.deviceId! });
      expect(Buffer.from(Envelope.encode(decoded).finish()).equals(Buffer.from(bytes))).toBe(true);
    }), params());
  }, TIMEOUT_MS);
});

/** Tensor fields as a careless or hostile caller could fill them (decodeTensor is exported: it checks its input). */
const hostileTensorArb: fc.Arbitrary<TensorProps> = fc.record(
  {
    name: fc.string({ maxLength: 8 }),
    shape: fc.array(
      fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, 2 ** 32 - 1, 2 ** 53, 1e300)),
      { maxLength: 4 },
    ),
    encoding: fc.oneof(fc.constantFrom(...ENCODINGS), fc.integer({ min: -2, max: 9 })),
    data: fc.uint8Array({ maxLength: 64 }),
    scale: fc.oneof(fc.float({ noNaN: true, min: 0, max: 2 }), fc.double()),
    zeroPoint: fc.oneof(fc.integer({ min: -128, max: 127 }), fc.integer(), fc.double()),
    scales: fc.array(fc.oneof(fc.float({ noNaN: true, min: 0, max: 2 }), fc.double()), { maxLength: 8 }),
    quantizedAxis: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer()),
  },
  { requiredKeys: [] },
);

describe('decodeTensor and decodeWeights', () => {
  it('any tensor fields decode to a consistent finite tensor or a ProtoError, never more than maxElements', () => {
    const maxElementsArb = fc.constantFrom(0, 1, 16, DEFAULT_MAX_TENSOR_ELEMENTS);
    fc.assert(fc.property(fc.array(hostileTensorArb, { maxLength: 4 }), maxElementsArb, (tensors, maxElements) => {
      decodedOrProtoError(() => decodeWeights(tensors, { maxElements }), (weights) => checkWeights(weights, maxElements));
      for (const t of tensors) decodedOrProtoError(() => decodeTensor(t, { maxElements }), (w) => checkWeights([w], maxElements, t.data ?? undefined));
    }), params());
  }, TIMEOUT_MS);

  it('a shape that claims more elements than the data holds fails before anything that size is allocated', () => {
    const huge = fc.array(fc.integer({ min: 2 ** 16, max: 2 ** 32 - 1 }), { minLength: 2, maxLength: 4 });
    fc.assert(fc.property(huge, fc.constantFrom(...ENCODINGS), fc.uint8Array({ maxLength: 32 }), (shape, encoding, data) => {
      // Without the bounds these would ask for up to 2^128 floats: a RangeError, or an out-of-memory crash.
      expect(() => decodeTensor({ shape, encoding, data, scale: 1 })).toThrow(expect.objectContaining({ code: 'PROTO_ERR_BAD_TENSOR' }));
    }), params());
  }, TIMEOUT_MS);

  it('round-trips: fp32 bit for bit, fp16 to the nearest binary16, int8 within half a quantization step', () => {
    fc.assert(fc.property(weightTensorArb, fc.constantFrom(...ENCODINGS), fc.boolean(), (w: WeightTensor, encoding, perChannel) => {
      const encoded = encodeTensor(w, encoding, { perChannel });
      const decoded = decodeTensor(encoded);
      expect(decoded.shape).toEqual(w.shape);
      expect(decoded.name).toBe(w.name);
      if (encoding === TensorEncoding.TENSOR_ENCODING_FP32) {
        expect(Buffer.from(decoded.data.buffer).equals(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength))).toBe(true);
      } else if (encoding === TensorEncoding.TENSOR_ENCODING_FP16) {
        w.data.forEach((v, i) => expect(decoded.data[i]).toBe(float16ToFloat32(float32ToFloat16(v))));
      } else {
        // Per channel: the step of the channel (last dimension) the element is in; per tensor: one step.
        const channels = encoded.scales?.length ? w.shape[w.shape.length - 1]! : 1;
        const steps = new Array<number>(channels).fill(0);
        w.data.forEach((v, i) => { steps[i % channels] = Math.max(steps[i % channels]!, Math.abs(v) / 127); });
        w.data.forEach((v, i) => expect(Math.abs(decoded.data[i]! - v)).toBeLessThanOrEqual(steps[i % channels]! / 2 + Math.abs(v) * 1e-6 + 1e-30));
      }
    }), params());
  }, TIMEOUT_MS);
});

describe('decodeModelBlob on untrusted bytes', () => {
  const topologyArb = fc.oneof(
    fc.constant('{"class_name":"Sequential","config":{"layers":[]}}'),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  );

  it('arbitrary and damaged blobs decode to a JSON-object topology with consistent finite weights, or a ProtoError', () => {
    const maxElements = 4096;
    const blob = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.tuple(encodedTensorsArb, fc.array(byteMutationArb, { minLength: 1, maxLength: 4 })).map(([weights, mutations]) => {
        return mutateBytes(ModelBlob.encode({ topologyJson: '{"config":{}}', weights }).finish(), mutations);
      }),
    );
    fc.assert(fc.property(blob, (bytes) => {
      decodedOrProtoError(() => decodeModelBlob(bytes, { maxElements }), (artifact) => {
        const topology: unknown = JSON.parse(artifact.topologyJson);
        expect(topology !== null && typeof topology === 'object' && !Array.isArray(topology)).toBe(true);
        checkWeights(artifact.weights, maxElements, bytes);
      });
    }), params());
  }, TIMEOUT_MS);

  it('valid fp32 blobs round-trip bit for bit', () => {
    const artifactArb = fc.record({ topologyJson: topologyArb, weights: fc.array(weightTensorArb, { maxLength: 4 }) });
    fc.assert(fc.property(artifactArb, (artifact) => {
      let topologyIsObject = false;
      try {
        const parsed: unknown = JSON.parse(artifact.topologyJson);
        topologyIsObject = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
      } catch {
        topologyIsObject = false;
      }
      decodedOrProtoError(() => encodeModelBlob(artifact, TensorEncoding.TENSOR_ENCODING_FP32), (bytes) => {
        expect(topologyIsObject).toBe(true);
        const decoded = decodeModelBlob(bytes);
        expect(decoded.topologyJson).toBe(artifact.topologyJson);
        expect(decoded.weights.map((w) => [w.name, w.shape, Array.from(w.data, (v) => Object.is(v, -0) ? '-0' : v)]))
          .toEqual(artifact.weights.map((w) => [w.name, w.shape, Array.from(w.data, (v) => Object.is(v, -0) ? '-0' : v)]));
      });
    }), params());
  }, TIMEOUT_MS);
});
