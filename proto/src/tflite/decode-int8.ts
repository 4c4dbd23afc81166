// .tflite → Int8Graph: accepts exactly what the integer-only kernels can run — one subgraph, one int8 input and
// output, FULLY_CONNECTED / CONV_2D / MAX_POOL_2D / AVERAGE_POOL_2D / RESHAPE over int8 activations per tensor,
// int8 weights per channel (or per tensor, broadcast) with zero point 0, int32 biases — and recomputes every
// multiplier, shift and clamp with the same params.ts helpers the builder uses, so a file we wrote decodes to a
// graph that computes bit-identically. Anything else is refused with PROTO_ERR_BAD_TFLITE and the reason.
import { ProtoError } from '../errors.js';
import { outputSize, type Int8Graph, type Int8Op, type Int8TensorInfo } from '../int8/graph.js';
import { activationRange, channelRequant, type ActivationQuant, type FusedActivation } from '../int8/params.js';
import { shapeSize } from '../weights.js';
import { BuiltinOperator } from '../../generated/tflite/tflite-schema.js';
import { builtinOperatorName, readTflite, type TfliteModelView, type TfliteOperatorView, type TfliteTensorView } from './read-tflite.js';
import { fromTfliteActivation, fromTflitePadding } from './tflite-enums.js';
import { TFLITE_LIMITS } from './tflite-tables.js';

function bad(reason: string): never {
  throw new ProtoError('PROTO_ERR_BAD_TFLITE', reason);
}

/** Walks the operators in order, mapping TFLite activation tensors to graph tensors as they are produced. */
class GraphDecoder {
  readonly tensors: Int8TensorInfo[] = [];
  readonly ops: Int8Op[] = [];
  private readonly graphIndex = new Map<number, number>();
  private activationElements = 0;
  private macs = 0;

  constructor(private readonly view: TfliteModelView) {}

  /** A new int8 activation tensor: no data, per-tensor quantization, batch 1 leading. */
  produce(index: number, where: string): number {
    if (this.graphIndex.has(index)) bad(`${where}: tensor ${index} is written twice`);
    const t = this.view.tensors[index];
    if (t.type !== 'INT8' || t.data) bad(`${where}: tensor ${index} (${t.name}) is not an int8 activation`);
    if (t.shape.length < 2 || t.shape[0] !== 1) bad(`${where}: tensor ${index} shape [${t.shape.join(', ')}] has no batch dimension of 1`);
    const q = t.quant;
    if (!q || q.scales.length !== 1 || q.zeroPoints.length !== 1) bad(`${where}: tensor ${index} needs one scale and one zero point`);
    const [scale] = q.scales;
    const [zeroPoint] = q.zeroPoints;
    if (!(scale > 0) || !Number.isFinite(scale)) bad(`${where}: tensor ${index} scale ${scale}`);
    if (!Number.isInteger(zeroPoint) || zeroPoint < -128 || zeroPoint > 127) bad(`${where}: tensor ${index} zero point ${zeroPoint}`);
    this.activationElements += shapeSize(t.shape);
    if (this.activationElements > TFLITE_LIMITS.maxActivationElements) bad(`activations exceed ${TFLITE_LIMITS.maxActivationElements} elements`);
    this.tensors.push({ name: t.name, shape: t.shape.slice(1), quant: { scale, zeroPoint } });
    this.graphIndex.set(index, this.tensors.length - 1);
    return this.tensors.length - 1;
  }

  /** Counts an op's work against TFLITE_LIMITS.maxMacs, so a small file cannot describe an endless inference. */
  private work(where: string, outputElements: number, perOutput: number): void {
    this.macs += outputElements * perOutput;
    if (this.macs > TFLITE_LIMITS.maxMacs) bad(`${where}: inference needs more than ${TFLITE_LIMITS.maxMacs} multiply-accumulates`);
  }

  /** An activation tensor some earlier operator (or the graph input) produced. */
  consume(index: number, where: string): number {
    return this.graphIndex.get(index) ?? bad(`${where}: input tensor ${index} is not produced before it is read`);
  }

  decodeOperator(op: TfliteOperatorView, i: number): void {
    const where = `operator ${i} (${builtinOperatorName(op.builtinCode)})`;
    if (op.outputs.length !== 1 || op.inputs.length < 1) bad(`${where}: ${op.inputs.length} inputs, ${op.outputs.length} outputs`);
    const input = this.consume(op.inputs[0], where);
    const output = this.produce(op.outputs[0], where);
    const inT = this.tensors[input];
    const outT = this.tensors[output];
    switch (op.builtinCode) {
      case BuiltinOperator.FULLY_CONNECTED:
      case BuiltinOperator.CONV_2D:
        this.ops.push(this.weighted(op, where, input, output));
        return;
      case BuiltinOperator.MAX_POOL_2D:
      case BuiltinOperator.AVERAGE_POOL_2D: {
        const o = op.options.type === 'pool2d' ? op.options : bad(`${where}: missing Pool2DOptions`);
        const padding = fromTflitePadding(o.padding) ?? bad(`${where}: padding ${o.padding}`);
        const activation = fromTfliteActivation(o.activation) ?? bad(`${where}: fused activation ${o.activation} is not supported`);
        const window = { filterH: o.filterH, filterW: o.filterW, strideH: o.strideH, strideW: o.strideW };
        checkSpatial(where, inT.shape, outT.shape, window, padding, inT.shape[2]);
        this.work(where, shapeSize(outT.shape), Math.min(o.filterH, inT.shape[0]) * Math.min(o.filterW, inT.shape[1]));
        sameQuant(where, inT.quant, outT.quant);
        const clamp = activationRange(activation, outT.quant);
        this.ops.push({
          kind: op.builtinCode === BuiltinOperator.MAX_POOL_2D ? 'maxPool2d' : 'averagePool2d', input, output, ...window,
          padding, activationMin: clamp.min, activationMax: clamp.max,
        });
        return;
      }
      case BuiltinOperator.RESHAPE:
        if (shapeSize(inT.shape) !== shapeSize(outT.shape)) bad(`${where}: ${shapeSize(inT.shape)} elements reshaped to ${shapeSize(outT.shape)}`);
        sameQuant(where, inT.quant, outT.quant);
        checkNewShape(where, op, this.view, [1, ...outT.shape]);
        this.ops.push({ kind: 'reshape', input, output });
        return;
      default:
        bad(`${where}: operator not supported by the int8 kernels`);
    }
  }

  private weighted(op: TfliteOperatorView, where: string, input: number, output: number): Int8Op {
    const inT = this.tensors[input];
    const outT = this.tensors[output];
    const isConv = op.builtinCode === BuiltinOperator.CONV_2D;
    if (op.inputs.length < 2 || op.inputs[1] < 0) bad(`${where}: no weights`);
    const w = this.view.tensors[op.inputs[1]];
    const weightShape = w.shape;
    if (w.type !== 'INT8' || !w.data) bad(`${where}: weights are not constant int8`);
    if (weightShape.length !== (isConv ? 4 : 2)) bad(`${where}: weights of rank ${weightShape.length}`);
    const channels = weightShape[0];
    this.work(where, shapeSize(outT.shape), shapeSize(weightShape) / channels);
    const weightScales = channelScales(where, w, channels);
    const bias = biasValues(where, op.inputs[2] ?? -1, this.view, channels, inT.quant.scale, weightScales, outT.quant.scale);
    let requant;
    try {
      requant = channelRequant(inT.quant.scale, weightScales, outT.quant.scale);
    } catch (error) {
      throw new ProtoError('PROTO_ERR_BAD_TFLITE', `${where}: ${(error as Error).message}`, { cause: error });
    }
    const weights = new Int8Array(w.data.length);
    weights.set(new Int8Array(w.data.buffer, w.data.byteOffset, w.data.length));
    if (!isConv) {
      const o = op.options.type === 'fullyConnected' ? op.options : bad(`${where}: missing FullyConnectedOptions`);
      if (o.weightsFormat !== 0 || o.asymmetricQuantizeInputs) bad(`${where}: shuffled weights or hybrid quantization`);
      if (shapeSize(inT.shape) !== weightShape[1]) bad(`${where}: input of ${shapeSize(inT.shape)} values for weights [${weightShape.join(', ')}]`);
      if (outT.shape.length !== 1 || outT.shape[0] !== channels) bad(`${where}: output [1, ${outT.shape.join(', ')}] for ${channels} channels`);
      const activation = activationOf(where, o.activation);
      const clamp = activationRange(activation, outT.quant);
      return {
        kind: 'fullyConnected', input, output, weights, weightShape, weightScales, bias, ...requant, activation,
        activationMin: clamp.min, activationMax: clamp.max,
      };
    }
    const o = op.options.type === 'conv2d' ? op.options : bad(`${where}: missing Conv2DOptions`);
    if (o.dilationH !== 1 || o.dilationW !== 1) bad(`${where}: dilation ${o.dilationH}×${o.dilationW} is not supported`);
    const padding = fromTflitePadding(o.padding) ?? bad(`${where}: padding ${o.padding}`);
    const activation = activationOf(where, o.activation);
    const window = { filterH: weightShape[1], filterW: weightShape[2], strideH: o.strideH, strideW: o.strideW };
    checkSpatial(where, inT.shape, outT.shape, window, padding, channels);
    if (weightShape[3] !== inT.shape[2]) bad(`${where}: filter depth ${weightShape[3]} for ${inT.shape[2]} input channels`);
    const clamp = activationRange(activation, outT.quant);
    return {
      kind: 'conv2d', input, output, weights, weightShape, weightScales, bias, ...requant, activation,
      activationMin: clamp.min, activationMax: clamp.max, strideH: o.strideH, strideW: o.strideW, padding,
    };
  }
}

function activationOf(where: string, value: number): FusedActivation {
  return fromTfliteActivation(value) ?? bad(`${where}: fused activation ${value} is not supported`);
}

function sameQuant(where: string, a: ActivationQuant, b: ActivationQuant): void {
  if (a.scale !== b.scale || a.zeroPoint !== b.zeroPoint) bad(`${where}: input and output quantization differ`);
}

/** Checks an NHWC window op's output shape against TFLite's ComputeOutSize for its input. */
function checkSpatial(
  where: string, inShape: readonly number[], outShape: readonly number[],
  w: { filterH: number; filterW: number; strideH: number; strideW: number }, padding: 'same' | 'valid', outChannels: number,
): void {
  if (inShape.length !== 3) bad(`${where}: input [1, ${inShape.join(', ')}] is not NHWC`);
  for (const v of [w.filterH, w.filterW, w.strideH, w.strideW]) if (!(v >= 1 && v <= 0xffff)) bad(`${where}: window ${v}`);
  const expected = [
    outputSize(padding, inShape[0], w.filterH, w.strideH), outputSize(padding, inShape[1], w.filterW, w.strideW), outChannels,
  ];
  if (expected[0] < 1 || expected[1] < 1 || outShape.join(',') !== expected.join(',')) {
    bad(`${where}: output [1, ${outShape.join(', ')}], expected [1, ${expected.join(', ')}]`);
  }
}

/** Per-channel weight scales along axis 0; a single scale (per-tensor weights) is broadcast. Zero points 0. */
function channelScales(where: string, w: TfliteTensorView, channels: number): Float32Array {
  const q = w.quant ?? bad(`${where}: weights without quantization`);
  if (q.scales.length !== channels && q.scales.length !== 1) bad(`${where}: ${q.scales.length} weight scales for ${channels} channels`);
  if (q.scales.length > 1 && q.quantizedDimension !== 0) bad(`${where}: weights quantized along axis ${q.quantizedDimension}`);
  if (q.zeroPoints.length !== q.scales.length || q.zeroPoints.some((z) => z !== 0)) bad(`${where}: weight zero points must be 0`);
  if (q.scales.some((s) => !(s > 0) || !Number.isFinite(s))) bad(`${where}: weight scale not positive and finite`);
  return Float32Array.from({ length: channels }, (_, c) => q.scales[q.scales.length === 1 ? 0 : c]);
}

/** Int32 biases (none → zeros), their scale checked as TFLite checks it (|s_in·s_w − s_bias| / s_out ≤ 0.02). */
function biasValues(
  where: string, index: number, view: TfliteModelView, channels: number, inputScale: number, weightScales: Float32Array,
  outputScale: number,
): Int32Array {
  if (index < 0) return new Int32Array(channels);
  const b = view.tensors[index];
  if (b.type !== 'INT32' || !b.data || b.shape.length !== 1 || b.shape[0] !== channels) bad(`${where}: bias is not constant int32 [${channels}]`);
  const scales = b.quant?.scales ?? [];
  for (let c = 0; c < channels; c++) {
    const s = scales[scales.length === 1 ? 0 : c];
    if (!(Math.abs(Math.fround(inputScale * weightScales[c]) - s) / outputScale <= 0.02)) bad(`${where}: bias scale of channel ${c} is ${s}`);
  }
  const data = new DataView(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return Int32Array.from({ length: channels }, (_, c) => data.getInt32(c * 4, true));
}

/** RESHAPE's target (shape tensor, else options; one −1 resolved) must be the output tensor's shape. */
function checkNewShape(where: string, op: TfliteOperatorView, view: TfliteModelView, outShape: readonly number[]): void {
  const shapeTensor = op.inputs.length > 1 && op.inputs[1] >= 0 ? view.tensors[op.inputs[1]] : null;
  let target: number[] | null = op.options.type === 'reshape' ? op.options.newShape : null;
  if (shapeTensor) {
    if (shapeTensor.type !== 'INT32' || !shapeTensor.data || shapeTensor.shape.length !== 1) bad(`${where}: shape input is not a constant int32 vector`);
    const data = new DataView(shapeTensor.data.buffer, shapeTensor.data.byteOffset, shapeTensor.data.byteLength);
    target = Array.from({ length: shapeTensor.shape[0] }, (_, k) => data.getInt32(k * 4, true));
  }
  if (!target) return;
  const known = target.filter((d) => d !== -1);
  const free = target.length - known.length;
  const resolved = free === 1 && shapeSize(known) > 0
    ? target.map((d) => (d === -1 ? shapeSize(outShape) / shapeSize(known) : d))
    : target;
  if (free > 1 || resolved.join(',') !== outShape.join(',')) bad(`${where}: new shape [${target.join(', ')}] for output [${outShape.join(', ')}]`);
}

/** Decodes a .tflite file into an Int8Graph the Int8Interpreter runs; throws ProtoError PROTO_ERR_BAD_TFLITE. */
export function decodeTfliteInt8(bytes: Uint8Array): Int8Graph {
  const view = readTflite(bytes);
  if (view.subgraphCount !== 1) bad(`${view.subgraphCount} subgraphs; one is supported`);
  if (view.inputs.length !== 1 || view.outputs.length !== 1) bad(`${view.inputs.length} inputs and ${view.outputs.length} outputs; one each is supported`);
  const decoder = new GraphDecoder(view);
  const input = decoder.produce(view.inputs[0], 'subgraph input');
  view.operators.forEach((op, i) => decoder.decodeOperator(op, i));
  const output = decoder.consume(view.outputs[0], 'subgraph output');
  return { tensors: decoder.tensors, ops: decoder.ops, input, output };
}
