/** Messages between the hub's event loop (./worker-evaluator.ts) and its evaluation worker (./evaluation-worker.ts). */
import type { EvaluationBackend } from './agent-ml.js';
import type { EvaluateRequest, EvaluationResult } from './evaluator.js';

/** `workerData` of the evaluation worker. */
export interface EvaluationWorkerData {
  backend: EvaluationBackend;
}

export interface EvaluationJob {
  id: number;
  request: EvaluateRequest;
}

/** The answer to one job: its result, or the error's code (`AGENT_ERR_*` when the agent's code refused) and text. */
export type EvaluationAnswer =
  | { id: number; result: EvaluationResult }
  | { id: number; error: { code: string; message: string } };
