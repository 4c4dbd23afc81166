// The built-in architectures (hub/src/models/architectures.ts) as FloatModels, from weights named as tfjs names
// them there (`dense1/kernel`, `conv1/bias`, …). The final softmax is left out: the graph outputs logits.
import { ProtoError } from '../errors.js';
import type { ModelWeights } from '../weights.js';
import type { DenseLayer, FloatModel } from './float-model.js';
import type { FusedActivation } from './params.js';

function tensor(weights: ModelWeights, name: string): Float32Array {
  const w = weights.find((t) => t.name === name);
  if (!w) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `missing weight ${name}`);
  return w.data;
}

function dense(weights: ModelWeights, name: string, units: number, activation: FusedActivation): DenseLayer {
  return { kind: 'dense', name, kernel: tensor(weights, `${name}/kernel`), bias: tensor(weights, `${name}/bias`), units, activation };
}

/** mnist-2nn: 784-200-200-10, ReLU. */
export function mnist2nnFloatModel(weights: ModelWeights): FloatModel {
  return {
    inputShape: [784],
    layers: [dense(weights, 'dense1', 200, 'relu'), dense(weights, 'dense2', 200, 'relu'), dense(weights, 'output', 10, 'none')],
  };
}

/** tiny-cnn: conv 3×3×8 valid ReLU → maxpool 2 → conv 3×3×16 valid ReLU → maxpool 2 → flatten → dense 32 ReLU → dense 10. */
export function tinyCnnFloatModel(weights: ModelWeights): FloatModel {
  const conv = (name: string, filters: number) => ({
    kind: 'conv2d' as const, name, kernel: tensor(weights, `${name}/kernel`), bias: tensor(weights, `${name}/bias`),
    filters, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: 'valid' as const, activation: 'relu' as const,
  });
  const pool = (name: string) => ({
    kind: 'maxPool2d' as const, name, poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: 'valid' as const,
  });
  return {
    inputShape: [28, 28, 1],
    layers: [
      conv('conv1', 8), pool('pool1'), conv('conv2', 16), pool('pool2'), { kind: 'flatten', name: 'flatten' },
      dense(weights, 'dense1', 32, 'relu'), dense(weights, 'output', 10, 'none'),
    ],
  };
}
