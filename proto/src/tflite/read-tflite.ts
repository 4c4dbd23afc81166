// Reads a .tflite flatbuffer into plain data (first subgraph): verified first (flatbuffer-verifier.ts), then read
// with the generated accessors, every index checked against what it indexes. Structure only — whether the graph
// can run int8 is decode-int8.ts's question.
import { ByteBuffer } from 'flatbuffers';
import { ProtoError } from '../errors.js';
import { shapeSize } from '../weights.js';
import {
  BuiltinOperator, BuiltinOptions, Conv2DOptions, FullyConnectedOptions, Model, Pool2DOptions, ReshapeOptions,
  SoftmaxOptions, TensorType, type Operator, type Tensor,
} from '../../generated/tflite/tflite-schema.js';
import { verifyFlatbuffer } from './flatbuffer-verifier.js';
import { MODEL_TABLE, TFLITE_IDENTIFIER, TFLITE_LIMITS } from './tflite-tables.js';

/** The tensor types fedfleet reads and writes. */
export type TfliteTensorType = 'INT8' | 'INT32' | 'FLOAT32';

const TYPE_NAMES: Readonly<Partial<Record<number, TfliteTensorType>>> = {
  [TensorType.INT8]: 'INT8', [TensorType.INT32]: 'INT32', [TensorType.FLOAT32]: 'FLOAT32',
};
const TYPE_BYTES: Readonly<Record<TfliteTensorType, number>> = { INT8: 1, INT32: 4, FLOAT32: 4 };

export interface TfliteQuantView {
  scales: number[];
  zeroPoints: number[];
  quantizedDimension: number;
}

export interface TfliteTensorView {
  name: string;
  /** As stored, batch dimension included. */
  shape: number[];
  type: TfliteTensorType;
  /** Constant data (little-endian, row-major), null for a tensor without a buffer (an activation). */
  data: Uint8Array | null;
  /** Null when the tensor has no quantization parameters (no scale). */
  quant: TfliteQuantView | null;
}

export type TfliteOptionsView =
  | { type: 'none' }
  | { type: 'conv2d'; padding: number; strideW: number; strideH: number; activation: number; dilationW: number; dilationH: number }
  | { type: 'pool2d'; padding: number; strideW: number; strideH: number; filterW: number; filterH: number; activation: number }
  | { type: 'fullyConnected'; activation: number; weightsFormat: number; keepNumDims: boolean; asymmetricQuantizeInputs: boolean }
  | { type: 'softmax'; beta: number }
  | { type: 'reshape'; newShape: number[] | null }
  | { type: 'unknown'; code: number };

export interface TfliteOperatorView {
  /** BuiltinOperator value: max(deprecated_builtin_code, builtin_code), as tflite::GetBuiltinCode reads it. */
  builtinCode: number;
  version: number;
  /** Tensor indices; −1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  options: TfliteOptionsView;
}

export interface TfliteModelView {
  version: number;
  description: string;
  subgraphCount: number;
  tensors: TfliteTensorView[];
  operators: TfliteOperatorView[];
  inputs: number[];
  outputs: number[];
}

function bad(reason: string): never {
  throw new ProtoError('PROTO_ERR_BAD_TFLITE', reason);
}

/** The builtin operator's name (e.g. 'FULLY_CONNECTED'), or `BUILTIN_<code>` for one outside our schema subset. */
export function builtinOperatorName(code: number): string {
  return (BuiltinOperator as unknown as Record<number, string | undefined>)[code] ?? (code === 32 ? 'CUSTOM' : `BUILTIN_${code}`);
}

function indices(length: number, at: (i: number) => number | null, where: string, tensorCount: number, optional: boolean): number[] {
  if (length > TFLITE_LIMITS.maxOperatorTensors) bad(`${where}: ${length} tensors over the limit ${TFLITE_LIMITS.maxOperatorTensors}`);
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const index = at(i) ?? -2;
    if (!(index >= 0 && index < tensorCount) && !(optional && index === -1)) bad(`${where}: tensor index ${index} out of range`);
    out.push(index);
  }
  return out;
}

function readQuant(tensor: Tensor, where: string): TfliteQuantView | null {
  const q = tensor.quantization();
  if (!q || q.scaleLength() === 0) return null;
  if (Math.max(q.scaleLength(), q.zeroPointLength()) > TFLITE_LIMITS.maxChannels) bad(`${where}: quantization vectors over the limit ${TFLITE_LIMITS.maxChannels}`);
  const scales = Array.from({ length: q.scaleLength() }, (_, i) => q.scale(i) ?? NaN);
  const zeroPoints = Array.from({ length: q.zeroPointLength() }, (_, i) => {
    const z = q.zeroPoint(i) ?? 0n;
    if (z > BigInt(Number.MAX_SAFE_INTEGER) || z < BigInt(Number.MIN_SAFE_INTEGER)) bad(`${where}: zero point ${z} out of range`);
    return Number(z);
  });
  return { scales, zeroPoints, quantizedDimension: q.quantizedDimension() };
}

function readTensor(model: Model, tensor: Tensor, index: number): TfliteTensorView {
  const where = `tensor ${index}`;
  const type = TYPE_NAMES[tensor.type()] ?? bad(`${where}: unsupported tensor type ${TensorType[tensor.type()] ?? tensor.type()}`);
  const rank = tensor.shapeLength();
  if (rank > TFLITE_LIMITS.maxRank) bad(`${where}: rank ${rank} over the limit ${TFLITE_LIMITS.maxRank}`);
  const shape = Array.from({ length: rank }, (_, i) => tensor.shape(i) ?? 0);
  if (shape.some((d) => d < 1)) bad(`${where}: shape [${shape.join(', ')}] has a dimension below 1`);
  const elements = shapeSize(shape);
  if (elements > TFLITE_LIMITS.maxTensorElements) bad(`${where}: ${elements} elements over the limit ${TFLITE_LIMITS.maxTensorElements}`);
  const bufferIndex = tensor.buffer();
  if (bufferIndex >= model.buffersLength()) bad(`${where}: buffer ${bufferIndex} of ${model.buffersLength()}`);
  const bytes = model.buffers(bufferIndex)!.dataArray();
  const data = bytes && bytes.length > 0 ? bytes : null;
  if (data && data.length !== elements * TYPE_BYTES[type]) {
    bad(`${where}: ${data.length} bytes of data, shape [${shape.join(', ')}] of ${type} needs ${elements * TYPE_BYTES[type]}`);
  }
  const nameValue = tensor.name();
  return { name: typeof nameValue === 'string' ? nameValue : '', shape, type, data, quant: readQuant(tensor, where) };
}

function readOptions(op: Operator): TfliteOptionsView {
  switch (op.builtinOptionsType()) {
    case BuiltinOptions.NONE:
      return { type: 'none' };
    case BuiltinOptions.Conv2DOptions: {
      const o = op.builtinOptions(new Conv2DOptions()) as Conv2DOptions;
      return {
        type: 'conv2d', padding: o.padding(), strideW: o.strideW(), strideH: o.strideH(), activation: o.fusedActivationFunction(),
        dilationW: o.dilationWFactor(), dilationH: o.dilationHFactor(),
      };
    }
    case BuiltinOptions.Pool2DOptions: {
      const o = op.builtinOptions(new Pool2DOptions()) as Pool2DOptions;
      return {
        type: 'pool2d', padding: o.padding(), strideW: o.strideW(), strideH: o.strideH(), filterW: o.filterWidth(),
        filterH: o.filterHeight(), activation: o.fusedActivationFunction(),
      };
    }
    case BuiltinOptions.FullyConnectedOptions: {
      const o = op.builtinOptions(new FullyConnectedOptions()) as FullyConnectedOptions;
      return {
        type: 'fullyConnected', activation: o.fusedActivationFunction(), weightsFormat: o.weightsFormat(),
        keepNumDims: o.keepNumDims(), asymmetricQuantizeInputs: o.asymmetricQuantizeInputs(),
      };
    }
    case BuiltinOptions.SoftmaxOptions:
      return { type: 'softmax', beta: (op.builtinOptions(new SoftmaxOptions()) as SoftmaxOptions).beta() };
    case BuiltinOptions.ReshapeOptions: {
      const o = op.builtinOptions(new ReshapeOptions()) as ReshapeOptions;
      const length = o.newShapeLength();
      if (length > TFLITE_LIMITS.maxRank) bad(`reshape new_shape of rank ${length} over the limit ${TFLITE_LIMITS.maxRank}`);
      return { type: 'reshape', newShape: length > 0 ? Array.from({ length }, (_, i) => o.newShape(i) ?? 0) : null };
    }
    default:
      return { type: 'unknown', code: op.builtinOptionsType() };
  }
}

/**
 * Verifies and reads `bytes`; throws ProtoError PROTO_ERR_BAD_TFLITE for anything that is not a well-formed
 * TFLite v3 flatbuffer within TFLITE_LIMITS or that uses a tensor type other than INT8, INT32 and FLOAT32.
 */
export function readTflite(bytes: Uint8Array): TfliteModelView {
  if (!(bytes instanceof Uint8Array)) bad('not a byte array');
  if (bytes.length > TFLITE_LIMITS.maxFileBytes) bad(`${bytes.length} bytes over the limit ${TFLITE_LIMITS.maxFileBytes}`);
  verifyFlatbuffer(bytes, MODEL_TABLE, TFLITE_IDENTIFIER, TFLITE_LIMITS.verify);
  const model = Model.getRootAsModel(new ByteBuffer(bytes));
  // Generated vector accessors do not check the index: every index is checked against its vector's length here.
  if (model.subgraphsLength() < 1) bad('the model has no subgraph');
  const subgraph = model.subgraphs(0)!;
  const tensorCount = subgraph.tensorsLength();
  const tensors = Array.from({ length: tensorCount }, (_, i) => readTensor(model, subgraph.tensors(i)!, i));
  const operatorCount = subgraph.operatorsLength();
  if (operatorCount > TFLITE_LIMITS.maxOperators) bad(`${operatorCount} operators over the limit ${TFLITE_LIMITS.maxOperators}`);
  const operators = Array.from({ length: operatorCount }, (_, i): TfliteOperatorView => {
    const op = subgraph.operators(i)!;
    const where = `operator ${i}`;
    if (op.opcodeIndex() >= model.operatorCodesLength()) bad(`${where}: opcode index ${op.opcodeIndex()} of ${model.operatorCodesLength()}`);
    const code = model.operatorCodes(op.opcodeIndex())!;
    return {
      builtinCode: Math.max(code.builtinCode(), code.deprecatedBuiltinCode()),
      version: code.version(),
      inputs: indices(op.inputsLength(), (k) => op.inputs(k), `${where} input`, tensorCount, true),
      outputs: indices(op.outputsLength(), (k) => op.outputs(k), `${where} output`, tensorCount, false),
      options: readOptions(op),
    };
  });
  const description = model.description();
  return {
    version: model.version(),
    description: typeof description === 'string' ? description : '',
    subgraphCount: model.subgraphsLength(),
    tensors,
    operators,
    inputs: indices(subgraph.inputsLength(), (k) => subgraph.inputs(k), 'subgraph input', tensorCount, false),
    outputs: indices(subgraph.outputsLength(), (k) => subgraph.outputs(k), 'subgraph output', tensorCount, false),
  };
}
