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
