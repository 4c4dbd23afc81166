import { ProtoError } from '../errors.js';
import { shapeSize } from '../weights.js';
import { parseLayersTopology, type LayerActivation, type LayerSpec } from './layers-topology.js';

/**
 * A TensorFlow.js layers topology (`modelTopology` of `model.json`, as the hub stores it per version, read by
 * layers-topology.ts) lowered into the sequential operator graph a TFLite converter would emit for it (batch 1).
 * Only what the resource model needs: shapes, parameter counts, multiply-accumulates, kernel geometry for scratch.
 */

/** A TFLite builtin operator a layer lowers to. Fused ReLU/ReLU6 are an attribute of the op, not an op. */
export type McuOpKind = 'FULLY_CONNECTED' | 'CONV_2D' | 'MAX_POOL_2D' | 'AVERAGE_POOL_2D' | 'RESHAPE' | 'RELU' | 'RELU6' | 'SOFTMAX';

export interface McuOp {
  kind: McuOpKind;
  /** Name of the layer the op comes from. */
  layer: string;
  /** Shape of the op's input activation, without the batch dimension. */
  inputShape: number[];
  outputShape: number[];
  /** Weight elements (kernel), 0 for ops without weights. */
  weightCount: number;
  /** Bias elements, 0 when the layer has `use_bias: false` or no weights. */
  biasCount: number;
  /** Output channels of a weighted op: the axis per-channel quantization runs along [TFLite int8 spec]. */
  outputChannels: number;
  /** Multiply-accumulates for one example. Pooling, reshape and activations count 0 (see the doc). */
  macs: number;
  /** Conv2D only: kernel height × width × input channels, which sizes CMSIS-NN's im2col scratch. */
  kernelVolume: number;
}

export interface McuGraph {
  inputShape: number[];
  ops: McuOp[];
}

/** An activation lowered as TFLite does: ReLU/ReLU6 fuse into a preceding weighted op, softmax is its own op. */
function activationOps(activation: LayerActivation, layer: string, shape: number[], fusable: boolean): McuOp[] {
  const op = (kind: McuOpKind): McuOp => ({ kind, layer, inputShape: shape, outputShape: shape, weightCount: 0, biasCount: 0, outputChannels: 0, macs: 0, kernelVolume: 0 });
  switch (activation) {
    case 'linear': return [];
    case 'relu': return fusable ? [] : [op('RELU')];
    case 'relu6': return fusable ? [] : [op('RELU6')];
    case 'softmax': return [op('SOFTMAX')];
  }
}

function lowerLayer(spec: LayerSpec): McuOp[] {
  const none = { weightCount: 0, biasCount: 0, outputChannels: 0, macs: 0, kernelVolume: 0 };
  const { name: layer, inputShape, outputShape } = spec;
  switch (spec.kind) {
    case 'dense': {
      // The TFLite converter keeps a Dense input's leading axes as extra rows.
      const rows = shapeSize(inputShape) / spec.inFeatures;
      const dense: McuOp = { kind: 'FULLY_CONNECTED', layer, inputShape, outputShape, weightCount: spec.inFeatures * spec.units,
        biasCount: spec.useBias ? spec.units : 0, outputChannels: spec.units, macs: rows * spec.inFeatures * spec.units, kernelVolume: 0 };
      return [dense, ...activationOps(spec.activation, layer, outputShape, true)];
    }
    case 'conv2d': {
      const kernelVolume = spec.kernelH * spec.kernelW * inputShape[2];
      const conv: McuOp = { kind: 'CONV_2D', layer, inputShape, outputShape, weightCount: kernelVolume * spec.filters,
        biasCount: spec.useBias ? spec.filters : 0, outputChannels: spec.filters, macs: shapeSize(outputShape) * kernelVolume, kernelVolume };
      return [conv, ...activationOps(spec.activation, layer, outputShape, true)];
    }
    case 'maxPool2d':
    case 'averagePool2d':
      return [{ kind: spec.kind === 'maxPool2d' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', layer, inputShape, outputShape, ...none }];
    case 'reshape':
      return [{ kind: 'RESHAPE', layer, inputShape, outputShape, ...none }];
    case 'activation':
      return activationOps(spec.activation, layer, inputShape, false);
  }
}

/**
 * Resolves a layers topology (object or its JSON text) into the sequential operator graph, batch 1.
 * @throws ProtoError PROTO_ERR_UNSUPPORTED_LAYER for a layer type or activation the model does not know,
 *   PROTO_ERR_BAD_TOPOLOGY for a malformed topology or inconsistent shapes.
 */
export function parseLayerGraph(topology: unknown): McuGraph {
  const { inputShape, layers } = parseLayersTopology(topology);
  const ops = layers.flatMap(lowerLayer);
  if (ops.length === 0) throw new ProtoError('PROTO_ERR_BAD_TOPOLOGY', 'topology has no operators');
  return { inputShape, ops };
}

export function elementCount(shape: readonly number[]): number {
  return shapeSize(shape);
}
