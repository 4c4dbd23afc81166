// The operators fedfleet emits, as the TFLite converter emits them — shared by the int8 and the float encoder,
// which differ only in their tensors: builtin code, version (tensorflow/lite/tools/versioning/op_version.cc:
// int8 per-channel CONV_2D is version 3, int8 FULLY_CONNECTED 4, int8 pooling 2), options, input order
// (data, weights, bias). RESHAPE carries its new shape in its options alone, the form TFLite's and TFLite Micro's
// kernels accept besides a second, int32 shape input (reshape.cc: one input → ReshapeOptions.new_shape); the
// converter also writes that input, a tensor and a 16-byte aligned buffer this format spends about 80 bytes on.
import type { Padding } from '../int8/graph.js';
import type { FusedActivation } from '../int8/params.js';
import { ActivationFunctionType, BuiltinOperator } from '../../generated/tflite/tflite-schema.js';
import { toTfliteActivation, toTflitePadding } from './tflite-enums.js';
import type { TfliteWriter } from './tflite-writer.js';

/** Tensor indices of an op with weights. */
export interface WeightedTensors {
  input: number;
  weights: number;
  bias: number;
  output: number;
}

export interface ConvParams {
  strideH: number;
  strideW: number;
  padding: Padding;
  activation: FusedActivation;
}

export interface PoolParams {
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
  padding: Padding;
}

/** Int32 values as little-endian bytes (TFLite buffers are little-endian whatever the host). */
export function int32LeBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i], true);
  return out;
}

export function emitFullyConnected(w: TfliteWriter, t: WeightedTensors, activation: FusedActivation, int8: boolean): void {
  w.addOperator({
    code: BuiltinOperator.FULLY_CONNECTED, version: int8 ? 4 : 1, inputs: [t.input, t.weights, t.bias], outputs: [t.output],
    options: { type: 'fullyConnected', activation: toTfliteActivation(activation) },
  });
}

export function emitConv2d(w: TfliteWriter, t: WeightedTensors, p: ConvParams, int8: boolean): void {
  w.addOperator({
    code: BuiltinOperator.CONV_2D, version: int8 ? 3 : 1, inputs: [t.input, t.weights, t.bias], outputs: [t.output],
    options: { type: 'conv2d', padding: toTflitePadding(p.padding), strideW: p.strideW, strideH: p.strideH, activation: toTfliteActivation(p.activation) },
  });
}

export function emitPool2d(
  w: TfliteWriter, kind: 'maxPool2d' | 'averagePool2d', input: number, output: number, p: PoolParams, int8: boolean,
): void {
  w.addOperator({
    code: kind === 'maxPool2d' ? BuiltinOperator.MAX_POOL_2D : BuiltinOperator.AVERAGE_POOL_2D, version: int8 ? 2 : 1,
    inputs: [input], outputs: [output],
    options: {
      type: 'pool2d', padding: toTflitePadding(p.padding), strideW: p.strideW, strideH: p.strideH, filterW: p.filterW,
      filterH: p.filterH, activation: ActivationFunctionType.NONE,
    },
  });
}

/** RESHAPE to `newShape` (batch included), given in the options. */
export function emitReshape(w: TfliteWriter, input: number, output: number, newShape: readonly number[]): void {
  w.addOperator({ code: BuiltinOperator.RESHAPE, version: 1, inputs: [input], outputs: [output], options: { type: 'reshape', newShape } });
}

export function emitSoftmax(w: TfliteWriter, input: number, output: number, beta: number, int8: boolean): void {
  w.addOperator({ code: BuiltinOperator.SOFTMAX, version: int8 ? 2 : 1, inputs: [input], outputs: [output], options: { type: 'softmax', beta } });
}
