// A float model as plain data in TensorFlow.js layouts (dense kernel [in, out], conv kernel [kh, kw, in, out],
// activations NHWC without the batch dimension), and a plain-JS float forward pass over typed arrays. It is the
// reference the int8 graph is built from and compared against, and the source of calibration ranges.
import { ProtoError } from '../errors.js';
import { shapeSize } from '../weights.js';
import { outputSize, paddingBefore, type Padding } from './graph.js';
import type { FusedActivation } from './params.js';

export interface DenseLayer {
  kind: 'dense';
  name: string;
  /** [in, out], row-major. */
  kernel: Float32Array;
  bias: Float32Array;
  units: number;
  activation: FusedActivation;
}

export interface Conv2dLayer {
  kind: 'conv2d';
  name: string;
  /** [kh, kw, in, out], row-major. */
  kernel: Float32Array;
  bias: Float32Array;
  filters: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padding: Padding;
  activation: FusedActivation;
}

export interface Pool2dLayer {
  kind: 'maxPool2d' | 'averagePool2d';
  name: string;
  poolH: number;
  poolW: number;
  strideH: number;
  strideW: number;
  padding: Padding;
}

export interface FlattenLayer {
  kind: 'flatten';
  name: string;
}

export type FloatLayer = DenseLayer | Conv2dLayer | Pool2dLayer | FlattenLayer;

/** Layers in order; the last one outputs logits (a trailing softmax is left out: arg-max is the same). */
export interface FloatModel {
  inputShape: number[];
  layers: FloatLayer[];
}

/** Output shape of `layer` for an input of `shape` (no batch dimension). */
export function layerOutputShape(layer: FloatLayer, shape: readonly number[]): number[] {
  switch (layer.kind) {
    case 'dense':
      if (shapeSize(shape) * layer.units !== layer.kernel.length) {
        throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${layer.name}: kernel does not match input [${shape.join(',')}]`);
      }
      return [layer.units];
    case 'conv2d':
      if (shape.length !== 3 || layer.kernelH * layer.kernelW * shape[2] * layer.filters !== layer.kernel.length) {
        throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${layer.name}: kernel does not match input [${shape.join(',')}]`);
      }
      return [
        outputSize(layer.padding, shape[0], layer.kernelH, layer.strideH),
        outputSize(layer.padding, shape[1], layer.kernelW, layer.strideW),
        layer.filters,
      ];
    case 'maxPool2d':
    case 'averagePool2d':
      return [
        outputSize(layer.padding, shape[0], layer.poolH, layer.strideH),
        outputSize(layer.padding, shape[1], layer.poolW, layer.strideW),
        shape[2],
      ];
    case 'flatten':
      return [shapeSize(shape)];
  }
}

function activate(v: number, activation: FusedActivation): number {
  if (activation === 'none') return v;
  const r = v > 0 ? v : 0;
  return activation === 'relu6' && r > 6 ? 6 : r;
}

function denseForward(layer: DenseLayer, x: Float32Array, out: Float32Array): void {
  const units = layer.units;
  const { kernel, bias } = layer;
  for (let o = 0; o < units; o++) out[o] = bias[o];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v === 0) continue;
    const base = i * units;
    for (let o = 0; o < units; o++) out[o] += v * kernel[base + o];
  }
  for (let o = 0; o < units; o++) out[o] = activate(out[o], layer.activation);
}

function conv2dForward(layer: Conv2dLayer, x: Float32Array, inShape: readonly number[], out: Float32Array, outShape: readonly number[]): void {
  const [inH, inW, inC] = inShape;
  const [outH, outW, outC] = outShape;
  const padTop = paddingBefore(layer.padding, inH, layer.kernelH, layer.strideH);
  const padLeft = paddingBefore(layer.padding, inW, layer.kernelW, layer.strideW);
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const outBase = (oy * outW + ox) * outC;
      for (let oc = 0; oc < outC; oc++) out[outBase + oc] = layer.bias[oc];
      for (let fy = 0; fy < layer.kernelH; fy++) {
        const inY = oy * layer.strideH - padTop + fy;
        if (inY < 0 || inY >= inH) continue;
        for (let fx = 0; fx < layer.kernelW; fx++) {
          const inX = ox * layer.strideW - padLeft + fx;
          if (inX < 0 || inX >= inW) continue;
          for (let ic = 0; ic < inC; ic++) {
            const v = x[(inY * inW + inX) * inC + ic];
            const kBase = ((fy * layer.kernelW + fx) * inC + ic) * outC;
            for (let oc = 0; oc < outC; oc++) out[outBase + oc] += v * layer.kernel[kBase + oc];
          }
        }
      }
      for (let oc = 0; oc < outC; oc++) out[outBase + oc] = activate(out[outBase + oc], layer.activation);
    }
  }
}

function pool2dForward(layer: Pool2dLayer, x: Float32Array, inShape: readonly number[], out: Float32Array, outShape: readonly number[]): void {
  const [inH, inW, depth] = inShape;
  const [outH, outW] = outShape;
  const padTop = paddingBefore(layer.padding, inH, layer.poolH, layer.strideH);
  const padLeft = paddingBefore(layer.padding, inW, layer.poolW, layer.strideW);
  for (let oy = 0; oy < outH; oy++) {
    const y0 = Math.max(oy * layer.strideH - padTop, 0);
    const y1 = Math.min(oy * layer.strideH - padTop + layer.poolH, inH);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = Math.max(ox * layer.strideW - padLeft, 0);
      const x1 = Math.min(ox * layer.strideW - padLeft + layer.poolW, inW);
      for (let c = 0; c < depth; c++) {
        let acc = layer.kind === 'maxPool2d' ? -Infinity : 0;
        for (let y = y0; y < y1; y++) {
          for (let xx = x0; xx < x1; xx++) {
            const v = x[(y * inW + xx) * depth + c];
            acc = layer.kind === 'maxPool2d' ? (v > acc ? v : acc) : acc + v;
          }
        }
        out[(oy * outW + ox) * depth + c] = layer.kind === 'maxPool2d' ? acc : acc / ((y1 - y0) * (x1 - x0));
      }
    }
  }
}

/**
 * Float forward pass of one example; returns the last layer's output. `onLayer(index, output)` sees every
 * layer's output (post-activation) — calibration records its range there.
 */
export function floatForward(
  model: FloatModel,
  input: Float32Array,
  onLayer?: (index: number, output: Float32Array) => void,
): Float32Array {
  let shape: readonly number[] = model.inputShape;
  let x = input;
  if (x.length !== shapeSize(shape)) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `input has ${x.length} values`);
  model.layers.forEach((layer, index) => {
    const outShape = layerOutputShape(layer, shape);
    let out: Float32Array;
    if (layer.kind === 'flatten') {
      out = x;
    } else {
      out = new Float32Array(shapeSize(outShape));
      if (layer.kind === 'dense') denseForward(layer, x, out);
      else if (layer.kind === 'conv2d') conv2dForward(layer, x, shape, out, outShape);
      else pool2dForward(layer, x, shape, out, outShape);
    }
    onLayer?.(index, out);
    x = out;
    shape = outShape;
  });
  return x;
}
