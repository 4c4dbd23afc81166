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

/**
 * Scores a loaded model on a data set batch by batch: `score(from, to)` adds examples [from, to) (one batch at most)
 * to the sums, `result()` divides them by the examples of the set.
 */
function batchScorer(model: tf.LayersModel, data: Dataset, batchSize: number) {
  const batches = new BatchMaker(data, model, Math.min(batchSize, data.count));
  const order = identityOrder(data.count);
  const k = batches.numClasses;
  let lossSum = 0;
  let correct = 0;
  return {
    score(from: number, to: number): void {
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
    },
    result: (): EvaluationResult => ({ loss: lossSum / data.count, accuracy: correct / data.count, count: data.count }),
  };
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new AgentError('AGENT_ERR_BAD_OPTIONS', `batchSize ${batchSize} must be a positive integer`);
}

/** Loss and accuracy of a loaded model on a data set. */
export function evaluateModel(model: tf.LayersModel, data: Dataset, batchSize = DEFAULT_EVAL_BATCH_SIZE): EvaluationResult {
  checkBatchSize(batchSize);
  if (data.count === 0) return { loss: Number.NaN, accuracy: Number.NaN, count: 0 };
  const scorer = batchScorer(model, data, batchSize);
  for (let from = 0; from < data.count; from += batchSize) scorer.score(from, Math.min(from + batchSize, data.count));
  return scorer.result();
}

/**
 * Awaited after each slice of an evaluation with the examples scored so far and the total: where a device lets its
 * event loop run (MQTT, a Cancel, a deadline timer) and throws to stop the evaluation.
 */
export type BetweenSlices = (done: number, count: number) => Promise<void>;

/** Runs `score(from, to)` over examples [0, count) in slices of `slice`, awaiting `between` after each (the last too). */
export async function scoreInSlices(count: number, slice: number, score: (from: number, to: number) => void, between: BetweenSlices): Promise<void> {
  for (let from = 0; from < count; from += slice) {
    const to = Math.min(from + slice, count);
    score(from, to);
    await between(to, count);
  }
}

/**
 * {@link evaluateModel} with `between` awaited after every batch (the last one too, so a result is not returned
 * past a stop that came during its last batch).
 */
export async function evaluateModelInSlices(model: tf.LayersModel, data: Dataset, between: BetweenSlices, batchSize = DEFAULT_EVAL_BATCH_SIZE): Promise<EvaluationResult> {
  checkBatchSize(batchSize);
  if (data.count === 0) return { loss: Number.NaN, accuracy: Number.NaN, count: 0 };
  const scorer = batchScorer(model, data, batchSize);
  await scoreInSlices(data.count, batchSize, scorer.score, between);
  return scorer.result();
}

export interface EvaluateOptions {
  /** Layers topology JSON (`modelTopology` of a `model.json`). */
  topologyJson: string;
  /** Weights in `model.getWeights()` order. */
  weights: ModelWeights;
  data: Dataset;
  /** Examples per inference batch. Default {@link DEFAULT_EVAL_BATCH_SIZE}. */
  batchSize?: number;
  /** Awaited after every batch (a device's deadline and Cancel stop the evaluation there). Default: none, batches run back to back. */
  between?: BetweenSlices;
}

/** Builds the model, evaluates it on `data` with the active backend, and disposes it. */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationResult> {
  const model = await modelFromTopology(options.topologyJson, options.weights);
  try {
    return options.between
      ? await evaluateModelInSlices(model, options.data, options.between, options.batchSize)
      : evaluateModel(model, options.data, options.batchSize);
  } finally {
    model.dispose();
  }
}
