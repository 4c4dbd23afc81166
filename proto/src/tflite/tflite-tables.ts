// The verifier's view of proto/tflite/schema.fbs: every field of every table in our subset of the TFLite schema,
// by vtable slot, so verifyFlatbuffer checks everything the generated accessors can reach. Keep in step with the
// schema (a field added there and not here would be read unverified).
import type { FieldSpec, TableSpec, VerifyLimits } from './flatbuffer-verifier.js';
import { BuiltinOptions, QuantizationDetails } from '../../generated/tflite/tflite-schema.js';

const byte: FieldSpec = { kind: 'scalar', bytes: 1 };
const int: FieldSpec = { kind: 'scalar', bytes: 4 };
const float: FieldSpec = int;
const string: FieldSpec = { kind: 'string' };
const ints: FieldSpec = { kind: 'vector', elementBytes: 4 };
const floats: FieldSpec = ints;
const longs: FieldSpec = { kind: 'vector', elementBytes: 8 };
const bytes: FieldSpec = { kind: 'vector', elementBytes: 1 };
const unionType: FieldSpec = { kind: 'unionType' };
const tables = (table: TableSpec): FieldSpec => ({ kind: 'tables', table });

const customQuantization: TableSpec = { name: 'CustomQuantization', fields: [bytes] };

const quantizationParameters: TableSpec = {
  name: 'QuantizationParameters',
  // min, max, scale, zero_point, details (type, value), quantized_dimension
  fields: [floats, floats, floats, longs, unionType,
    { kind: 'union', members: { [QuantizationDetails.CustomQuantization]: customQuantization } }, int],
};

const tensor: TableSpec = {
  name: 'Tensor',
  // shape, type, buffer, name, quantization, is_variable
  fields: [ints, byte, int, string, { kind: 'table', table: quantizationParameters }, byte],
};

const builtinOptions: Readonly<Record<number, TableSpec>> = {
  // padding, stride_w, stride_h, fused_activation_function, dilation_w_factor, dilation_h_factor
  [BuiltinOptions.Conv2DOptions]: { name: 'Conv2DOptions', fields: [byte, int, int, byte, int, int] },
  // padding, stride_w, stride_h, filter_width, filter_height, fused_activation_function
  [BuiltinOptions.Pool2DOptions]: { name: 'Pool2DOptions', fields: [byte, int, int, int, int, byte] },
  // fused_activation_function, weights_format, keep_num_dims, asymmetric_quantize_inputs
  [BuiltinOptions.FullyConnectedOptions]: { name: 'FullyConnectedOptions', fields: [byte, byte, byte, byte] },
  [BuiltinOptions.SoftmaxOptions]: { name: 'SoftmaxOptions', fields: [float] },
  [BuiltinOptions.ReshapeOptions]: { name: 'ReshapeOptions', fields: [ints] },
};

// deprecated_builtin_code, custom_code, version, builtin_code
const operatorCode: TableSpec = { name: 'OperatorCode', fields: [byte, string, int, int] };

const operator: TableSpec = {
  name: 'Operator',
  // opcode_index, inputs, outputs, builtin_options (type, value)
  fields: [int, ints, ints, unionType, { kind: 'union', members: builtinOptions }],
};

const subGraph: TableSpec = {
  name: 'SubGraph',
  // tensors, inputs, outputs, operators, name
  fields: [tables(tensor), ints, ints, tables(operator), string],
};

const buffer: TableSpec = { name: 'Buffer', fields: [bytes] };

/** Root table: version, operator_codes, subgraphs, description, buffers. */
export const MODEL_TABLE: TableSpec = {
  name: 'Model',
  fields: [int, tables(operatorCode), tables(subGraph), string, tables(buffer)],
};

/** The file identifier of schema version 3 (schema.fbs `file_identifier`). */
export const TFLITE_IDENTIFIER = 'TFL3';

/**
 * Bounds on what a .tflite file may declare before anything is allocated for it. Generous for microcontroller
 * models (the built-in ones are under 1 MiB and a few KiB of activations) and small enough that a hostile file
 * cannot make a decoder or the interpreter that runs its graph allocate or loop without end.
 */
export const TFLITE_LIMITS = {
  maxFileBytes: 64 * 1024 * 1024,
  verify: { maxDepth: 16, maxTables: 100_000 } satisfies VerifyLimits,
  /** Rank of any tensor, batch dimension included (NHWC). */
  maxRank: 4,
  /** Elements of one tensor. */
  maxTensorElements: 1 << 24,
  /** Elements of all activation tensors of a decoded graph together (the interpreter allocates one buffer each). */
  maxActivationElements: 1 << 25,
  maxOperators: 4096,
  /** Inputs or outputs of one operator or of the subgraph. */
  maxOperatorTensors: 16,
  /** Entries of a quantization vector (scales, zero points: one per channel). */
  maxChannels: 65536,
  /**
   * Multiply-accumulates (pooling: window taps) of one inference of a decoded graph; 2^30 is about 2 s on a
   * 480 MHz Cortex-M7 at one MAC per cycle. The built-in models need under 2^18.
   */
  maxMacs: 2 ** 30,
} as const;
