// Collects tensors and operators of one subgraph and serializes them as a TFLite v3 flatbuffer with the generated
// builders: buffer 0 the empty sentinel every activation tensor points at, one 16-byte aligned buffer per constant
// tensor, operator codes deduplicated by (op, version) in order of first use, equal shapes, quantization
// parameters and their vectors written once.
import { Builder } from 'flatbuffers';
import {
  Buffer, BuiltinOptions, Conv2DOptions, FullyConnectedOptions, Model, Operator, OperatorCode, Pool2DOptions,
  QuantizationDetails, QuantizationParameters, ReshapeOptions, SoftmaxOptions, SubGraph, Tensor, TensorType,
  type ActivationFunctionType, type BuiltinOperator, type Padding,
} from '../../generated/tflite/tflite-schema.js';
import type { TfliteTensorType } from './read-tflite.js';
import { TFLITE_IDENTIFIER } from './tflite-tables.js';

export interface TensorSpec {
  name: string;
  /** As stored, batch dimension included for activations. */
  shape: readonly number[];
  type: TfliteTensorType;
  /** Constant data, little-endian row-major; absent for activations. */
  data?: Uint8Array;
  quant?: { scales: ArrayLike<number>; zeroPoints: ArrayLike<number>; quantizedDimension: number };
}

export type OptionsSpec =
  | { type: 'conv2d'; padding: Padding; strideW: number; strideH: number; activation: ActivationFunctionType }
  | { type: 'pool2d'; padding: Padding; strideW: number; strideH: number; filterW: number; filterH: number; activation: ActivationFunctionType }
  | { type: 'fullyConnected'; activation: ActivationFunctionType }
  | { type: 'softmax'; beta: number }
  | { type: 'reshape'; newShape: readonly number[] };

export interface OperatorSpec {
  code: BuiltinOperator;
  /** Operator version as the TFLite converter sets it (tensorflow/lite/tools/versioning/op_version.cc). */
  version: number;
  inputs: readonly number[];
  outputs: readonly number[];
  options: OptionsSpec;
}

const TENSOR_TYPES: Readonly<Record<TfliteTensorType, TensorType>> = {
  INT8: TensorType.INT8, INT32: TensorType.INT32, FLOAT32: TensorType.FLOAT32,
};

/** TFLite aligns constant buffers to 16 bytes (schema.fbs `force_align: 16`; flatc's TypeScript ignores it). */
const BUFFER_ALIGNMENT = 16;
/** Builtin codes up to 126 also go in the deprecated byte field, for readers older than schema 3a. */
const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

export class TfliteWriter {
  private readonly tensors: TensorSpec[] = [];
  private readonly operators: OperatorSpec[] = [];

  /** Adds a tensor and returns its index. */
  addTensor(spec: TensorSpec): number {
    this.tensors.push(spec);
    return this.tensors.length - 1;
  }

  addOperator(spec: OperatorSpec): void {
    this.operators.push(spec);
  }

  finish(io: { inputs: readonly number[]; outputs: readonly number[]; description: string }): Uint8Array {
    const b = new Builder(1024);
    // Strings may be written anywhere before the table that points at them: they fill the gaps that aligning the
    // constant buffers would otherwise pad with zeros.
    const strings = new StringPool(b, [...this.tensors.map((t) => t.name), 'main', io.description]);
    const buffers = [Buffer.createBuffer(b, 0)];
    const bufferIndex = this.tensors.map((t) => {
      if (!t.data) return 0;
      b.prep(4, 0); // a vtable just written may have left the builder 2 bytes off the 4 every object needs
      strings.fill((BUFFER_ALIGNMENT - ((b.offset() + t.data.length) % BUFFER_ALIGNMENT)) % BUFFER_ALIGNMENT);
      b.prep(BUFFER_ALIGNMENT, t.data.length);
      buffers.push(Buffer.createBuffer(b, b.createByteVector(t.data)));
      return buffers.length - 1;
    });
    const shared = new SharedObjects();
    const tensors = this.tensors.map((t, i) => writeTensor(b, shared, t, bufferIndex[i], strings.offset(i)));
    const ints = (values: readonly number[]): number => intVector(b, shared, values);
    const codes: { code: BuiltinOperator; version: number }[] = [];
    const operators = this.operators.map((op) => {
      let opcodeIndex = codes.findIndex((c) => c.code === op.code && c.version === op.version);
      if (opcodeIndex < 0) opcodeIndex = codes.push({ code: op.code, version: op.version }) - 1;
      const [optionsType, options] = shared.get(`options:${JSON.stringify(op.options)}`, () => writeOptions(b, shared, op.options));
      return Operator.createOperator(b, opcodeIndex, ints(op.inputs), ints(op.outputs), optionsType, options);
    });
    const subgraph = SubGraph.createSubGraph(b, SubGraph.createTensorsVector(b, tensors), ints(io.inputs), ints(io.outputs),
      SubGraph.createOperatorsVector(b, operators), strings.offset(this.tensors.length));
    const opcodes = codes.map(({ code, version }) => OperatorCode.createOperatorCode(
      b, Math.min(code, PLACEHOLDER_FOR_GREATER_OP_CODES), 0, version, code));
    const model = Model.createModel(b, 3, Model.createOperatorCodesVector(b, opcodes),
      Model.createSubgraphsVector(b, [subgraph]), strings.offset(this.tensors.length + 1), Model.createBuffersVector(b, buffers));
    b.finish(model, TFLITE_IDENTIFIER);
    return b.asUint8Array().slice();
  }
}

/**
 * The file's strings, each written once: early, as filler, when its bytes exactly take up the padding that aligning
 * a constant buffer needs, otherwise when first asked for.
 */
class StringPool {
  private readonly offsets: (number | undefined)[];
  private readonly sizes: number[];

  constructor(private readonly b: Builder, private readonly values: readonly string[]) {
    this.offsets = new Array<number | undefined>(values.length);
    // A string takes its uint32 length, its UTF-8 bytes and a NUL, rounded up to 4 bytes.
    this.sizes = values.map((v) => 4 + ((utf8.encode(v).length + 1 + 3) & ~3));
  }

  /** Writes unwritten strings whose sizes sum to `gap` modulo the buffer alignment — one if one fits, else two. */
  fill(gap: number): void {
    if (gap === 0) return;
    const fits = (size: number, want: number): boolean => size % BUFFER_ALIGNMENT === want;
    const free = this.values.map((_, i) => i).filter((i) => this.offsets[i] === undefined);
    const one = free.find((i) => fits(this.sizes[i], gap));
    if (one !== undefined) return void this.offset(one);
    for (const i of free) {
      const want = (gap - (this.sizes[i] % BUFFER_ALIGNMENT) + BUFFER_ALIGNMENT) % BUFFER_ALIGNMENT;
      const j = free.find((k) => k !== i && fits(this.sizes[k], want));
      if (j !== undefined) {
        this.offset(i);
        this.offset(j);
        return;
      }
    }
  }

  offset(index: number): number {
    return (this.offsets[index] ??= this.b.createString(this.values[index]));
  }
}

const utf8 = new TextEncoder();

function writeTensor(b: Builder, shared: SharedObjects, t: TensorSpec, buffer: number, name: number): number {
  const shape = intVector(b, shared, t.shape);
  let quant = 0;
  if (t.quant) {
    const q = t.quant;
    // Keyed by the stored float32 values: two scales that round to the same float32 are the same bytes.
    const scaleKey = `scale:${Array.from(Float32Array.from(q.scales)).join(',')}`;
    const zeroKey = `zero:${Array.from(q.zeroPoints).join(',')}`;
    quant = shared.get(`quant:${scaleKey};${zeroKey};${q.quantizedDimension}`, () => {
      const scale = shared.get(scaleKey, () => QuantizationParameters.createScaleVector(b, Array.from(q.scales)));
      const zeroPoint = shared.get(zeroKey, () => QuantizationParameters.createZeroPointVector(b, Array.from(q.zeroPoints, (z) => BigInt(z))));
      return QuantizationParameters.createQuantizationParameters(b, 0, 0, scale, zeroPoint, QuantizationDetails.NONE, 0, q.quantizedDimension);
    });
  }
  Tensor.startTensor(b);
  Tensor.addShape(b, shape);
  Tensor.addType(b, TENSOR_TYPES[t.type]);
  Tensor.addBuffer(b, buffer);
  Tensor.addName(b, name);
  if (quant) Tensor.addQuantization(b, quant);
  return Tensor.endTensor(b);
}

/**
 * Objects written once and referenced by every table that needs the same content — flatbuffers offsets may point
 * at one object from many places. In an int8 model a layer's weights and bias share one vector of zero points and
 * activations on either side of a pooling or reshape share their quantization parameters: about 700 of the tiny
 * CNN's 18,700 bytes.
 */
class SharedObjects {
  private readonly written = new Map<string, unknown>();
  get<T>(key: string, write: () => T): T {
    if (!this.written.has(key)) this.written.set(key, write());
    return this.written.get(key) as T;
  }
}

/** Every `[int]` field of the schema (shapes, operator and subgraph inputs and outputs, new_shape) is the same bytes. */
function intVector(b: Builder, shared: SharedObjects, values: readonly number[]): number {
  return shared.get(`int32:${values.join(',')}`, () => SubGraph.createInputsVector(b, [...values]));
}

function writeOptions(b: Builder, shared: SharedObjects, o: OptionsSpec): [BuiltinOptions, number] {
  switch (o.type) {
    case 'conv2d':
      Conv2DOptions.startConv2DOptions(b);
      Conv2DOptions.addPadding(b, o.padding);
      Conv2DOptions.addStrideW(b, o.strideW);
      Conv2DOptions.addStrideH(b, o.strideH);
      Conv2DOptions.addFusedActivationFunction(b, o.activation);
      return [BuiltinOptions.Conv2DOptions, Conv2DOptions.endConv2DOptions(b)];
    case 'pool2d':
      return [BuiltinOptions.Pool2DOptions, Pool2DOptions.createPool2DOptions(b, o.padding, o.strideW, o.strideH, o.filterW, o.filterH, o.activation)];
    case 'fullyConnected':
      return [BuiltinOptions.FullyConnectedOptions, FullyConnectedOptions.createFullyConnectedOptions(b, o.activation, 0, false, false)];
    case 'softmax':
      return [BuiltinOptions.SoftmaxOptions, SoftmaxOptions.createSoftmaxOptions(b, o.beta)];
    case 'reshape':
      return [BuiltinOptions.ReshapeOptions, ReshapeOptions.createReshapeOptions(b, intVector(b, shared, o.newShape))];
  }
}
