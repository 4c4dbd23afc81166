// A FloatModel from any TF.js layers topology the int8 path can run, read by the same parser as the MCU resource
// model (mcu/layers-topology.ts). Lowered as the TFLite converter does: ReLU/ReLU6 fused into the preceding
// Dense/Conv2D, Flatten (or a Reshape to one axis) a reshape, a trailing softmax dropped (arg-max of the logits is
// the same class; appendSoftmax adds it to an int8 graph when wanted).
import { ProtoError } from '../errors.js';
import { parseLayersTopology, type LayerActivation, type LayerSpec } from '../mcu/layers-topology.js';
import { shapeSize, type ModelWeights } from '../weights.js';
import type { FloatLayer, FloatModel } from './float-model.js';
import type { FusedActivation } from './params.js';

function unsupported(layer: string, detail: string): ProtoError {
  return new ProtoError('PROTO_ERR_UNSUPPORTED_LAYER', `${layer}: ${detail}`);
}

/** The weight `${layer}/${part}` (tfjs names them so), checked against the shape the topology implies. */
function weight(weights: ModelWeights, layer: string, part: 'kernel' | 'bias', shape: readonly number[]): Float32Array {
  const name = `${layer}/${part}`;
  const w = weights.find((t) => t.name === name);
  if (!w) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `missing weight ${name}`);
  if (w.data.length !== shapeSize(shape) || (w.shape.length > 0 && w.shape.join(',') !== shape.join(','))) {
    throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name} has shape [${w.shape.join(', ')}] (${w.data.length} values), the topology needs [${shape.join(', ')}]`);
  }
  return w.data;
}

function biasOf(weights: ModelWeights, layer: string, useBias: boolean, channels: number): Float32Array {
  return useBias ? weight(weights, layer, 'bias', [channels]) : new Float32Array(channels);
}

/** A layer's own activation: fused ReLU/ReLU6, or a softmax that must be the model's last op. */
function fused(activation: LayerActivation, layer: string, last: boolean): FusedActivation {
  if (activation === 'softmax') {
    if (!last) throw unsupported(layer, 'softmax is supported only as the last layer (it is dropped: the model outputs logits)');
    return 'none';
  }
  return activation === 'linear' ? 'none' : activation;
}

function toFloatLayer(spec: LayerSpec, weights: ModelWeights, last: boolean): FloatLayer | undefined {
  switch (spec.kind) {
    case 'dense': {
      // FloatModel's dense reads its whole input; tfjs Dense on a [h, w, c] input would apply per position.
      if (spec.inputShape.length !== 1) throw unsupported(spec.name, `Dense on a [${spec.inputShape.join(', ')}] input; flatten it first`);
      return {
        kind: 'dense', name: spec.name, units: spec.units, activation: fused(spec.activation, spec.name, last),
        kernel: weight(weights, spec.name, 'kernel', [spec.inFeatures, spec.units]), bias: biasOf(weights, spec.name, spec.useBias, spec.units),
      };
    }
    case 'conv2d': {
      if (spec.dilationH !== 1 || spec.dilationW !== 1) throw unsupported(spec.name, `dilation [${spec.dilationH}, ${spec.dilationW}] (only 1)`);
      const { name, filters, kernelH, kernelW } = spec;
      return {
        kind: 'conv2d', name, filters, kernelH, kernelW, strideH: spec.strideH, strideW: spec.strideW, padding: spec.padding,
        activation: fused(spec.activation, name, last),
        kernel: weight(weights, name, 'kernel', [kernelH, kernelW, spec.inputShape[2], filters]), bias: biasOf(weights, name, spec.useBias, filters),
      };
    }
    case 'maxPool2d':
    case 'averagePool2d':
      return { kind: spec.kind, name: spec.name, poolH: spec.poolH, poolW: spec.poolW, strideH: spec.strideH, strideW: spec.strideW, padding: spec.padding };
    case 'reshape':
      if (spec.outputShape.length !== 1) throw unsupported(spec.name, `reshape to [${spec.outputShape.join(', ')}] (only to one axis)`);
      return { kind: 'flatten', name: spec.name };
    case 'activation':
      return undefined; // folded by the caller
  }
}

/**
 * The FloatModel of a TF.js layers topology (object or JSON text) with its weights, named as tfjs names them
 * (`${layer}/kernel`, `${layer}/bias`, kernels in TF.js layouts).
 * Supported: InputLayer, Dense (on a flat input), Conv2D (no dilation), MaxPooling2D, AveragePooling2D, Flatten,
 * Reshape to one axis, Dropout; ReLU/ReLU6 as a layer's activation or as a layer right after a linear Dense/Conv2D;
 * softmax only last.
 * @throws ProtoError PROTO_ERR_UNSUPPORTED_LAYER naming the layer for anything else, PROTO_ERR_BAD_TOPOLOGY for a
 *   malformed topology, PROTO_ERR_BAD_TENSOR for a missing or mis-shaped weight.
 */
export function floatModelFromTopology(topology: unknown, weights: ModelWeights): FloatModel {
  const { inputShape, layers: specs } = parseLayersTopology(topology);
  const layers: FloatLayer[] = [];
  specs.forEach((spec, index) => {
    const last = index === specs.length - 1;
    if (spec.kind !== 'activation') {
      const layer = toFloatLayer(spec, weights, last);
      if (layer) layers.push(layer);
      return;
    }
    const activation = fused(spec.activation, spec.name, last);
    if (activation === 'none') return; // linear, or the trailing softmax
    // A standalone ReLU fuses into the weighted layer right before it, as the TFLite converter fuses it. Layers
    // skipped in between (linear activations, Dropout) are the identity; ReLU and ReLU6 compose to ReLU6.
    const previous = layers[layers.length - 1];
    if (!previous || (previous.kind !== 'dense' && previous.kind !== 'conv2d')) {
      throw unsupported(spec.name, `${activation} must follow a Dense or Conv2D layer`);
    }
    previous.activation = previous.activation === 'relu6' ? 'relu6' : activation;
  });
  if (layers.length === 0) throw new ProtoError('PROTO_ERR_BAD_TOPOLOGY', 'topology has no layers the float model can run');
  return { inputShape: [...inputShape], layers };
}
