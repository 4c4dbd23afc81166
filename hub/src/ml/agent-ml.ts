/**
 * The hub's one adapter to the agent's ML code (`@fedfleet/agent/ml`): evaluating a model on labelled examples, and
 * reading examples in the agent's data formats. No other hub module imports agent code (the CLI's `agent` and `sim`
 * commands excepted); `.dependency-cruiser.cjs` enforces it in `npm test`. The rest of the hub gets evaluation as
 * an injected `Evaluator` (./evaluator.ts). Loading this module loads TensorFlow.js, so the hub loads it only
 * in its evaluation worker thread (./evaluation-worker.ts) and the CLI only for `fedfleet datasets upload`.
 */
import { resolve } from 'node:path';
import { evaluate, initBackend, isAgentError, loadDiskDataSource, mnistGlobal } from '@fedfleet/agent/ml';
import type { ValidationData } from '../datasets/dataset-registry.js';
import { HubError } from '../errors.js';
import type { EvaluateRequest, EvaluationResult } from './evaluator.js';

/** TensorFlow.js backends hub-side evaluation may run on: `wasm` is the agents' own (the default), `cpu` pure JS. */
export type EvaluationBackend = 'wasm' | 'cpu';

/**
 * Evaluates on `backend` with the agent's `evaluate()`, on the calling thread: the same figures a device computes.
 * Errors keep the agent's `AGENT_ERR_*` code.
 */
export async function evaluateWithAgentCode(request: EvaluateRequest, backend: EvaluationBackend): Promise<EvaluationResult> {
  await initBackend(backend);
  return evaluate({ topologyJson: request.topologyJson, weights: request.weights, data: request.data });
}

/**
 * Labelled examples of one split of a data set folder in the agent's format (agent/docs/data-format.md, relative to
 * `cwd`), or of the built-in MNIST digits (`mnist:test`, `mnist:train`, whatever `split` says).
 * @throws HubError HUB_ERR_DATASET_INVALID naming `source` when the agent's data code refuses it.
 */
export async function readLabelledExamples(source: string, split: 'train' | 'test', cwd: string): Promise<ValidationData> {
  try {
    if (source === 'mnist:test' || source === 'mnist:train') return mnistGlobal()[source === 'mnist:test' ? 'test' : 'train'];
    return (await loadDiskDataSource(resolve(cwd, source)))[split]();
  } catch (error) {
    if (isAgentError(error)) throw new HubError('HUB_ERR_DATASET_INVALID', { message: `${source}: ${error.message}`, cause: error });
    throw error;
  }
}
