/**
 * Decorates `hub.evaluator`: hub-side evaluation in a worker thread (./worker-evaluator.ts), for capabilities that
 * evaluate a model on a validation set (federated rounds). Registered before them; the worker ends on close.
 */
import fp from 'fastify-plugin';
import '../hub-context.js';
import type { Evaluator } from './evaluator.js';
import { createWorkerEvaluator } from './worker-evaluator.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Evaluates models off the event loop, with the agents' own code. */
    evaluator: Evaluator;
  }
}

export const mlPlugin = fp(
  async (app) => {
    const evaluator = createWorkerEvaluator({ log: app.log.child({ component: 'evaluator' }) });
    app.decorate('evaluator', evaluator);
    app.addHook('onClose', async () => evaluator.close());
  },
  { name: 'fedfleet-ml' },
);
