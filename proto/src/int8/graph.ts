// The int8 model graph: plain data, ops in execution order over int8 tensors, everything an integer-only
// interpreter needs precomputed (codes, int32 biases, per-channel multipliers and shifts, activation clamps).
// Layouts follow TensorFlow Lite so the graph maps one-to-one onto a .tflite flatbuffer later: activations NHWC
// (batch 1, left out), dense weights [out, in], conv weights [out, kh, kw, in] (OHWI), channel axis 0.
import type { ActivationQuant, ChannelRequant, FusedActivation } from './params.js';

/** One activation tensor: its shape without the batch dimension and its per-tensor quantization. */
export interface Int8TensorInfo {
  name: string;
  shape: number[];
  quant: ActivationQuant;
}

/** Parameters shared by ops with int8 per-channel weights. */
interface WeightedOpBase extends ChannelRequant {
  input: number;
  output: number;
  /** int8 weight codes, zeroPoint 0, channel axis 0. */
  weights: Int8Array;
  weightShape: number[];
  /** Float32 scale per output channel (kept for export and dequantization). */
  weightScales: Float32Array;
  /** int32 biases at scale inputScale × weightScales[c]. */
  bias: Int32Array;
  activation: FusedActivation;
  /** Output code clamp from the fused activation (CalculateActivationRangeQuantized). */
  activationMin: number;
  activationMax: number;
}

export interface FullyConnectedOp extends WeightedOpBase {
  kind: 'fullyConnected';
}

export type Padding = 'valid' | 'same';

export interface Conv2dOp extends WeightedOpBase {
  kind: 'conv2d';
  strideH: number;
  strideW: number;
  padding: Padding;
}

/** Max or average pooling; input and output share scale and zero point (TFLite requires it). */
export interface Pool2dOp {
  kind: 'maxPool2d' | 'averagePool2d';
  input: number;
  output: number;
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
  padding: Padding;
  activationMin: number;
  activationMax: number;
}

/** Reshape / flatten: row-major data unchanged, same quantization. */
export interface ReshapeOp {
  kind: 'reshape';
  input: number;
  output: number;
}

export type Int8Op = FullyConnectedOp | Conv2dOp | Pool2dOp | ReshapeOp;

export interface Int8Graph {
  tensors: Int8TensorInfo[];
  ops: Int8Op[];
  /** Index of the input tensor (int8, as TFLite Micro expects). */
  input: number;
  /** Index of the output tensor: int8 logits (softmax is left to arg-max, see argMaxInt8). */
  output: number;
}

/** TFLite ComputeOutSize / ComputePaddingHeightWidth for one spatial dimension (dilation 1). */
export function outputSize(padding: Padding, inSize: number, filter: number, stride: number): number {
  return padding === 'same' ? Math.floor((inSize + stride - 1) / stride) : Math.floor((inSize - filter + stride) / stride);
}

/** Leading padding of one spatial dimension: half of the total, rounded down (TFLite and TensorFlow agree). */
export function paddingBefore(padding: Padding, inSize: number, filter: number, stride: number): number {
  if (padding === 'valid') return 0;
  const out = outputSize(padding, inSize, filter, stride);
  const total = (out - 1) * stride + filter - inSize;
  return total > 0 ? Math.floor(total / 2) : 0;
}
