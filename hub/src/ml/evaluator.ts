/**
 * What the hub needs of model evaluation (hub-side evaluation of a new version on a validation set, DESIGN §4), as
 * an interface the rounds capability is given. The implementation runs the agents' own evaluation code and lives
 * in the one adapter module allowed to import agent code; nothing else in the hub knows where it comes from.
 */
import type { ModelWeights } from '@fedfleet/proto';
import type { ValidationData } from '../datasets/dataset-registry.js';

export interface EvaluationResult {
  /** Mean cross-entropy per example (NaN when `count` is 0). */
  loss: number;
  /** Fraction of examples whose most probable class is the label, in [0, 1] (NaN when `count` is 0). */
  accuracy: number;
  /** Number of examples evaluated. */
  count: number;
}

export interface EvaluateRequest {
  /** TensorFlow.js layers topology (`model.json`'s modelTopology) as JSON text. */
  topologyJson: string;
  weights: ModelWeights;
  data: ValidationData;
}

export interface Evaluator {
  /** Evaluates a model on a data set; never blocks the caller's event loop for the evaluation itself. */
  evaluate(request: EvaluateRequest): Promise<EvaluationResult>;
  /** Releases what the evaluator holds (a worker thread). */
  close(): Promise<void>;
}
