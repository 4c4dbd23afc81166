/**
 * The HTTP schemas of the one encoding vocabulary (proto/src/encoding.ts): what the API answers and what it accepts,
 * including the deprecated aliases older clients send.
 */
import { ACCEPTED_ENCODING_NAMES, DEFAULT_ENCODING, DEPRECATED_ENCODING_ALIASES, ENCODINGS } from '@fedfleet/proto';
import Type, { type TSchemaOptions } from 'typebox';

const aliases = Object.entries(DEPRECATED_ENCODING_ALIASES).map(([alias, name]) => `${alias} (= ${name})`).join(', ');

/** An encoding name, fp32 | fp16 | int8, with `options` (a default, another description) added. */
export const encodingSchema = (options: TSchemaOptions = {}) => Type.Enum(ENCODINGS, {
  description: 'fp32 (exact), fp16 (round to nearest even) or int8 (TFLite int8: weights per output channel downlink, per tensor with stochastic rounding uplink)',
  ...options,
});
export const EncodingSchema = encodingSchema();

/** An encoding name in a request: also the deprecated aliases, which the handler maps with `parseEncoding`. */
export const EncodingRequestSchema = Type.Enum(ACCEPTED_ENCODING_NAMES, {
  description: `${ENCODINGS.join(' | ')} (default ${DEFAULT_ENCODING}); deprecated alias: ${aliases}`,
});
