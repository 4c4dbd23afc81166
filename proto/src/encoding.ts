// The one vocabulary of tensor encodings (STYLE 14): the names an operator uses — campaign `downlink` / `uplink`,
// the artifact route's `encoding=`, a model version's stored encoding — and their mapping to the wire enum
// fleet.proto `TensorEncoding`, defined once here and imported by hub, agent and firmware-sim.
import { ProtoError } from './errors.js';
import { TensorEncoding, type fedfleet } from './messages.js';

/** A wire encoding of tensor values (fleet.proto `TensorEncoding`). */
export type TensorEncodingValue = fedfleet.v1.TensorEncoding;

/**
 * The encoding names, cheapest last: fp32 (exact), fp16 (half the bytes), int8 (a quarter; TFLite int8 spec,
 * per output channel for downlinked weight tensors of rank ≥ 2, per tensor with stochastic rounding for uplinked
 * updates).
 */
export const ENCODINGS = ['fp32', 'fp16', 'int8'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** What an unset encoding means: fp32, no compression. */
export const DEFAULT_ENCODING: Encoding = 'fp32';

/**
 * Deprecated spellings accepted where requests come in, for clients written before the vocabulary was unified:
 * campaign requests said `none` for fp32. Never produced, only read.
 */
export const DEPRECATED_ENCODING_ALIASES = Object.freeze({ none: 'fp32' } as const satisfies Record<string, Encoding>);
export type DeprecatedEncodingAlias = keyof typeof DEPRECATED_ENCODING_ALIASES;

/** Every name a request may carry: the encodings, then the deprecated aliases. */
export const ACCEPTED_ENCODING_NAMES = [
  ...ENCODINGS, ...(Object.keys(DEPRECATED_ENCODING_ALIASES) as DeprecatedEncodingAlias[]),
] as unknown as readonly [...typeof ENCODINGS, DeprecatedEncodingAlias];

const WIRE: Readonly<Record<Encoding, TensorEncodingValue>> = Object.freeze({
  fp32: TensorEncoding.TENSOR_ENCODING_FP32,
  fp16: TensorEncoding.TENSOR_ENCODING_FP16,
  int8: TensorEncoding.TENSOR_ENCODING_INT8,
});

export function isEncoding(name: unknown): name is Encoding {
  return typeof name === 'string' && (ENCODINGS as readonly string[]).includes(name);
}

/**
 * An encoding name or a deprecated alias ({@link DEPRECATED_ENCODING_ALIASES}) as its canonical name.
 * @throws ProtoError PROTO_ERR_BAD_TENSOR for any other value.
 */
export function parseEncoding(name: unknown): Encoding {
  if (isEncoding(name)) return name;
  if (typeof name === 'string' && Object.hasOwn(DEPRECATED_ENCODING_ALIASES, name)) {
    return DEPRECATED_ENCODING_ALIASES[name as DeprecatedEncodingAlias];
  }
  throw new ProtoError('PROTO_ERR_BAD_TENSOR', `unknown encoding ${JSON.stringify(name)}; use ${ENCODINGS.join(', ')}`);
}

/** The wire enum value of an encoding name. */
export function wireEncodingOf(encoding: Encoding): TensorEncodingValue {
  return WIRE[encoding];
}

/**
 * The name of a wire enum value.
 * @throws ProtoError PROTO_ERR_BAD_TENSOR for UNSPECIFIED or a value this version does not know.
 */
export function encodingOfWire(wire: TensorEncodingValue | null | undefined): Encoding {
  for (const name of ENCODINGS) if (WIRE[name] === wire) return name;
  throw new ProtoError('PROTO_ERR_BAD_TENSOR', `unknown encoding ${String(wire)}`);
}
