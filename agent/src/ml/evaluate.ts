import * as tf from '@tensorflow/tfjs';
import type { ModelWeights } from '@fedfleet/proto';
import type { Dataset } from '../data/dataset.js';
import { AgentError } from '../errors.js';
import { BatchMaker } from './batches.js';
import { exampleCrossEntropy } from './loss.js';
import { modelFromTopology } from './model-io.js';

export interface EvaluationResult {
  /** Mean cross-entropy per example (NaN when `count` is 0). */
  loss: number;
  /** Fraction of examples whose most probable class is the label, in [0, 1] (NaN when `count` is 0). */
  accuracy: number;
  /** Number of examples evaluated. */
  count: number;
}

/** Default evaluation batch size, in examples. Inference only, so larger than a training batch. */
export const DEFAULT_EVAL_BATCH_SIZE = 256;

let identity = new Uint32Array(0);

/** 0, 1, …, count − 1 (shared, grown on demand). */
function identityOrder(count: number): Uint32Array {
  if (identity.length < count) identity = Uint32Array.from({ length: count }, (_, i) => i);
  return identity;
}

/** Loss and accuracy of a loaded model on a data set. */
export function evaluateModel(model: tf.LayersModel, data: Dataset, batchSize = DEFAULT_EVAL_BATCH_SIZE): EvaluationResult {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new AgentError('AGENT_ERR_BAD_OPTIONS', `batchSize ${batchSize} must be a positive integer`);
  if (data.count === 0) return { loss: Number.NaN, accuracy: Number.NaN, count: 0 };
  const batches = new BatchMaker(data, model, Math.min(batchSize, data.count));
  const order = identityOrder(data.count);
  const k = batches.numClasses;
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < data.count; from += batchSize) {
    const to = Math.min(from + batchSize, data.count);
    const probs = tf.tidy(() => {
      const xs = batches.features(order, from, to);
      return (model.predict(xs) as tf.Tensor).dataSync() as Float32Array;
    });
    for (let i = 0; i < to - from; i++) {
      const label = data.y[from + i]!;
      let best = 0;
      for (let c = 1; c < k; c++) if (probs[i * k + c]! > probs[i * k + best]!) best = c;
      if (best === label) correct++;
      lossSum += exampleCrossEntropy(probs[i * k + label]!);
    }
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count, count: data.count };
}

export interface EvaluateOptions {
  /** Layers topology JSON (`modelTopology` of a `model.json`). */
  topologyJson: string;
  /** Weights in `model.getWeights()` order. */
  weights: ModelWeights;
  data: Dataset;
  /** Examples per inference batch. Default {@link DEFAULT_EVAL_BATCH_SIZE}. */
  batchSize?: number;
}

/** Builds the model, evaluates it on `data` with the active backend, and disposes it. */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationResult> {
  const model = await modelFromTopology(options.topologyJson, options.weights);
  try {
    return evaluateModel(model, options.data, options.batchSize);
  } finally {
    model.dispose();
  }
}
