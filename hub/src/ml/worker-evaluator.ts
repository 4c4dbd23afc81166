/**
 * The hub's {@link Evaluator}: evaluations run in one worker thread (./evaluation-worker.ts) with the agents' own
 * code on their wasm backend, so the event loop keeps answering MQTT and HTTP meanwhile. The worker starts on the
 * first evaluation (a hub without validation sets never loads TensorFlow.js), stays for the next ones, and is
 * started again after a crash. It keeps the process alive only while an evaluation is pending.
 */
import { Worker } from 'node:worker_threads';
import { HubError } from '../errors.js';
import type { HubLogger } from '../logger.js';
import type { EvaluationBackend } from './agent-ml.js';
import type { EvaluationAnswer, EvaluationJob, EvaluationWorkerData } from './evaluation-messages.js';
import type { EvaluateRequest, EvaluationResult, Evaluator } from './evaluator.js';

/** A plain .mjs entry that registers tsx in the new thread before it loads the TypeScript worker. */
const WORKER_ENTRY = new URL('./evaluation-worker.mjs', import.meta.url);

export interface WorkerEvaluatorOptions {
  /** TensorFlow.js backend of the worker. Default `wasm`, the agents' own. */
  backend?: EvaluationBackend;
  log?: Pick<HubLogger, 'info' | 'warn'>;
}

interface Pending {
  resolve(result: EvaluationResult): void;
  reject(error: Error): void;
}

function failed(message: string, details?: unknown): HubError {
  return new HubError('HUB_ERR_EVALUATION_FAILED', { message: `hub-side evaluation failed: ${message}`, details });
}

export function createWorkerEvaluator(options: WorkerEvaluatorOptions = {}): Evaluator {
  const backend = options.backend ?? 'wasm';
  const pending = new Map<number, Pending>();
  let worker: Worker | undefined;
  let nextId = 1;
  let closed = false;

  function settle(id: number): Pending | undefined {
    const job = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker?.unref();
    return job;
  }

  function failAll(error: Error): void {
    for (const id of [...pending.keys()]) settle(id)!.reject(error);
  }

  function start(): Worker {
    // execArgv [] : a worker inherits the process's by default, and a preload meant for the main thread (a watchdog on
    // stdin, instrumentation) must not run again in it; the entry registers the TypeScript loader by itself.
    const started = new Worker(WORKER_ENTRY, { workerData: { backend } satisfies EvaluationWorkerData, execArgv: [] });
    started.on('message', (answer: EvaluationAnswer) => {
      const job = settle(answer.id);
      if (!job) return;
      if ('result' in answer) job.resolve(answer.result);
      else job.reject(failed(`${answer.error.code}: ${answer.error.message}`, { code: answer.error.code }));
    });
    started.on('error', (error) => {
      options.log?.warn({ err: error }, 'evaluation worker failed');
      failAll(failed(`the evaluation worker failed: ${error.message}`));
    });
    started.on('exit', (exitCode) => {
      if (worker === started) worker = undefined;
      failAll(failed(closed ? 'the evaluator was closed' : `the evaluation worker exited with code ${exitCode}`));
    });
    options.log?.info({ backend, threadId: started.threadId }, 'evaluation worker started');
    return started;
  }

  return {
    evaluate(request: EvaluateRequest): Promise<EvaluationResult> {
      if (closed) return Promise.reject(failed('the evaluator was closed'));
      worker ??= start();
      const id = nextId++;
      const result = new Promise<EvaluationResult>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.ref();
      // Structured clone copies the weights and examples: the caller's arrays stay usable (validation sets are cached).
      worker.postMessage({ id, request } satisfies EvaluationJob);
      return result;
    },

    async close(): Promise<void> {
      closed = true;
      const running = worker;
      worker = undefined;
      failAll(failed('the evaluator was closed'));
      await running?.terminate();
    },
  };
}
