import * as tf from '@tensorflow/tfjs';
import { shapeSize, type ModelWeights } from '@fedfleet/proto';
import { AgentError } from '../errors.js';

/**
 * Builds a layers model from its topology: the `modelTopology` object of a `model.json` as JSON text (a whole
 * `model.json` is accepted too), then loads `weights` into it when given. The caller owns the model and must
 * `dispose()` it. Throws `AGENT_ERR_BAD_MODEL` or `AGENT_ERR_WEIGHTS_MISMATCH`.
 */
export async function modelFromTopology(topologyJson: string, weights?: ModelWeights): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    const parsed = JSON.parse(topologyJson) as { modelTopology?: unknown };
    const topology = (parsed && typeof parsed === 'object' && parsed.modelTopology) || parsed;
    // Weights given replace every initial value, so the layers start from zeros, as tfjs' own loader does
    // (fastWeightInit): a topology that declares far more than its weights (a Dense of 10^6 units over 784 inputs)
    // is refused by checkWeights at once, not after a minute and gigabytes of random initialization.
    if (weights) zeroInitializers(topology, false);
    model = await tf.models.modelFromJSON(topology as Parameters<typeof tf.models.modelFromJSON>[0]);
  } catch (error) {
    throw new AgentError('AGENT_ERR_BAD_MODEL', (error as Error).message, { cause: error });
  }
  if (weights) {
    try {
      writeWeights(model, weights);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  return model;
}

/** Every initializer argument of TensorFlow.js' built-in layers, as a layers topology spells it. */
const INITIALIZER_KEYS = [
  'kernel_initializer', 'bias_initializer', 'recurrent_initializer', 'embeddings_initializer', 'depthwise_initializer',
  'pointwise_initializer', 'gamma_initializer', 'beta_initializer', 'moving_mean_initializer', 'moving_variance_initializer',
  'alpha_initializer',
];
const ZEROS = { class_name: 'Zeros', config: {} };

/**
 * Sets every initializer of every layer in a layers topology — wrapped layers and RNN cells included — to Zeros, in
 * place: given or left to its default (Glorot for kernels). A layer ignores the arguments it does not take.
 */
function zeroInitializers(node: unknown, isLayer = false): void {
  if (Array.isArray(node)) return node.forEach((n) => zeroInitializers(n, isLayer));
  if (!node || typeof node !== 'object') return;
  const { class_name: className, config } = node as { class_name?: unknown; config?: unknown };
  if (typeof className !== 'string' || !config || typeof config !== 'object') return;
  // The old Sequential format: `config` is the list of layers itself.
  if (Array.isArray(config)) return zeroInitializers(config, true);
  const args = config as Record<string, unknown>;
  if (isLayer) for (const key of INITIALIZER_KEYS) args[key] = ZEROS;
  // A model's `layers`, a wrapper's `layer` (Bidirectional, TimeDistributed), an RNN's `cell` or `cells`.
  for (const key of ['layers', 'layer', 'cell', 'cells']) if (key in args) zeroInitializers(args[key], true);
}

/**
 * Copies a model's weights out as typed arrays, in `model.getWeights()` order. Names are the weights-manifest
 * names (`dense1/kernel`), not tfjs' process-unique variable names (`dense1/kernel_7`).
 */
export function readWeights(model: tf.LayersModel): ModelWeights {
  return model.weights.map((variable) => {
    const value = variable.read();
    return { name: variable.originalName, shape: [...value.shape], data: new Float32Array(value.dataSync()) };
  });
}

/** Checks that `weights` fit `model` (count, order, names, shapes, lengths); throws `AGENT_ERR_WEIGHTS_MISMATCH`. */
export function checkWeights(model: tf.LayersModel, weights: ModelWeights): void {
  const variables = model.weights;
  if (variables.length !== weights.length) {
    throw new AgentError('AGENT_ERR_WEIGHTS_MISMATCH', `model has ${variables.length} weight tensors, got ${weights.length}`);
  }
  variables.forEach((variable, i) => {
    const w = weights[i]!;
    const expected = variable.shape;
    if (w.name !== variable.originalName) {
      throw new AgentError('AGENT_ERR_WEIGHTS_MISMATCH', `weight ${i} is ${variable.originalName}, got ${JSON.stringify(w.name)}`);
    }
    if (w.shape.length !== expected.length || w.shape.some((d, k) => d !== expected[k])) {
      throw new AgentError('AGENT_ERR_WEIGHTS_MISMATCH', `${w.name} has shape [${expected}], got [${w.shape}]`);
    }
    if (w.data.length !== shapeSize(expected as number[])) {
      throw new AgentError('AGENT_ERR_WEIGHTS_MISMATCH', `${w.name} needs ${shapeSize(expected as number[])} values, got ${w.data.length}`);
    }
  });
}

/** Loads `weights` (in `model.getWeights()` order) into `model` after {@link checkWeights}. */
export function writeWeights(model: tf.LayersModel, weights: ModelWeights): void {
  checkWeights(model, weights);
  // Copied: the cpu backend would otherwise alias the caller's arrays.
  const tensors = weights.map((w) => tf.tensor(new Float32Array(w.data), w.shape, 'float32'));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}
