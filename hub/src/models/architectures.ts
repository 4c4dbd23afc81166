import { tf } from './tfjs.js';
import type { ModelWeights } from '@fedfleet/proto';
import { HubError } from '../errors.js';

/**
 * The built-in TinyML architectures a model can be created from (DESIGN §5). Every layer has an explicit name,
 * so weight names (`dense1/kernel`, …) are the same in every process — tfjs' automatic names depend on how many
 * layers the process built before. Every initializer is seeded: the same seed gives bit-identical weights.
 */
export interface Architecture {
  /** Stable id, stored with the model (`models.architecture`). */
  id: string;
  description: string;
  /** Shape of one input example, without the batch dimension. */
  inputShape: number[];
  numClasses: number;
  /** Builds a fresh, uncompiled model with weights drawn from `seed` (a 32-bit integer). */
  build(seed: number): tf.LayersModel;
}

/** A different, reproducible seed for each layer of a model built with `seed`. */
function layerSeed(seed: number, layer: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(layer + 1, 0x85ebca6b)) >>> 0;
}

function dense(name: string, units: number, activation: 'relu' | 'softmax', seed: number, inputShape?: number[]): tf.layers.Layer {
  return tf.layers.dense({
    name,
    units,
    activation,
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
    biasInitializer: 'zeros',
    ...(inputShape ? { inputShape } : {}),
  });
}

/** McMahan et al. 2017 (FedAvg), "2NN": 784-200-200-10, ReLU, softmax; 199,210 parameters. */
const mnist2nn: Architecture = {
  id: 'mnist-2nn',
  description: 'MLP 784-200-200-10 with ReLU (the FedAvg paper 2NN), 199,210 parameters',
  inputShape: [784],
  numClasses: 10,
  build(seed) {
    return tf.sequential({
      name: 'mnist_2nn',
      layers: [
        dense('dense1', 200, 'relu', layerSeed(seed, 0), [784]),
        dense('dense2', 200, 'relu', layerSeed(seed, 1)),
        dense('output', 10, 'softmax', layerSeed(seed, 2)),
      ],
    });
  },
};

/**
 * A small CNN for 28×28×1 images: conv 3×3×8 → maxpool 2 → conv 3×3×16 → maxpool 2 → dense 32 → dense 10;
 * 14,410 parameters, ~0.2 MFLOP per example, cheap enough to train on the wasm backend of a Raspberry Pi.
 */
const tinyCnn: Architecture = {
  id: 'tiny-cnn',
  description: 'CNN conv3x3x8-pool-conv3x3x16-pool-dense32-dense10 for 28x28x1 images, 14,410 parameters',
  inputShape: [28, 28, 1],
  numClasses: 10,
  build(seed) {
    const conv = (name: string, filters: number, layer: number, inputShape?: number[]): tf.layers.Layer =>
      tf.layers.conv2d({
        name,
        filters,
        kernelSize: 3,
        padding: 'valid',
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(seed, layer) }),
        biasInitializer: 'zeros',
        ...(inputShape ? { inputShape } : {}),
      });
    return tf.sequential({
      name: 'tiny_cnn',
      layers: [
        conv('conv1', 8, 0, [28, 28, 1]),
        tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
        conv('conv2', 16, 1),
        tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }),
        tf.layers.flatten({ name: 'flatten' }),
        dense('dense1', 32, 'relu', layerSeed(seed, 2)),
        dense('output', 10, 'softmax', layerSeed(seed, 3)),
      ],
    });
  },
};

/** The built-in architectures by id. */
export const ARCHITECTURES: Readonly<Record<string, Architecture>> = Object.freeze({
  [mnist2nn.id]: mnist2nn,
  [tinyCnn.id]: tinyCnn,
});

export function getArchitecture(archId: string): Architecture {
  const arch = Object.hasOwn(ARCHITECTURES, archId) ? ARCHITECTURES[archId] : undefined;
  if (!arch) {
    throw new HubError('HUB_ERR_UNKNOWN_ARCHITECTURE', {
      message: `unknown architecture ${JSON.stringify(archId)}`,
      details: { archId, known: Object.keys(ARCHITECTURES) },
    });
  }
  return arch;
}

/** A new model of a built-in architecture: its layers topology and its initial weights. */
export interface InitialModel {
  /** `JSON.stringify(model.toJSON(null, false))`: the object stored as `modelTopology` in `model.json`. */
  topologyJson: string;
  /** Initial weights in `model.getWeights()` order (the weights-manifest order). */
  weights: ModelWeights;
}

/** Builds architecture `archId` with weights drawn from `seed`; same id and seed ⇒ identical result. */
export function createInitialModel(archId: string, seed: number): InitialModel {
  const model = getArchitecture(archId).build(seed);
  try {
    const topologyJson = JSON.stringify(model.toJSON(null, false));
    const weights: ModelWeights = model.weights.map((variable) => {
      const value = variable.read();
      // originalName: tfjs suffixes `name` (`dense1/kernel_3`) when a process builds a model twice.
      return { name: variable.originalName, shape: [...value.shape], data: new Float32Array(value.dataSync()) };
    });
    return { topologyJson, weights };
  } finally {
    model.dispose();
  }
}
