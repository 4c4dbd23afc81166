/**
 * The agent's ML core: backend selection, model topology/weights I/O, local training (FedAvg / FedProx client
 * update), evaluation, and the local data sets they run on.
 */
export { initBackend, type BackendOptions, type BackendPreference } from './backend.js';
export { registerWasmKernels } from './kernels/register-wasm-kernels.js';
export { checkWeights, modelFromTopology, readWeights, writeWeights } from './model-io.js';
export { modelClassCount, modelInputShape } from './batches.js';
export { crossEntropy, proximalTerm } from './loss.js';
export { DEFAULT_EVAL_BATCH_SIZE, evaluate, evaluateModel, type EvaluateOptions, type EvaluationResult } from './evaluate.js';
export {
  trainCentral,
  trainLocal,
  type TrainCentralOptions,
  type TrainMetrics,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from './train.js';
export * from '../data/index.js';
