/**
 * The evaluation worker thread: runs the agents' own evaluation code on the agents' wasm backend, so that an
 * evaluation (1–2 s per round on MNIST) never stalls the hub's event loop, which keeps serving MQTT and HTTP.
 * Started by ./worker-evaluator.ts through ./evaluation-worker.mjs, which registers the TypeScript loader first.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { evaluateWithAgentCode } from './agent-ml.js';
import type { EvaluationAnswer, EvaluationJob, EvaluationWorkerData } from './evaluation-messages.js';

const port = parentPort;
if (!port) throw new Error('evaluation-worker.ts runs only as a worker thread');
const { backend } = workerData as EvaluationWorkerData;

function errorOf(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return { code: typeof code === 'string' ? code : 'HUB_ERR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

port.on('message', (job: EvaluationJob) => {
  evaluateWithAgentCode(job.request, backend).then(
    (result) => port.postMessage({ id: job.id, result } satisfies EvaluationAnswer),
    (error: unknown) => port.postMessage({ id: job.id, error: errorOf(error) } satisfies EvaluationAnswer),
  );
});
