/**
 * Hub-side evaluation in a worker thread (hub/src/ml): the same figures as the agent's own `evaluate()` on the wasm
 * backend, without stalling the hub's event loop, and failures reported with a code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, initBackend } from '@fedfleet/agent/ml';
import type { ValidationData } from '../../src/datasets/dataset-registry.js';
import type { Evaluator } from '../../src/ml/evaluator.js';
import { createWorkerEvaluator } from '../../src/ml/worker-evaluator.js';
import { createInitialModel } from '../../src/models/architectures.js';
import { startTestHub } from '../helpers/test-hub.js';

/** `count` deterministic examples of `inputShape` with labels 0‥9. */
function examples(count: number, inputShape: number[]): ValidationData {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(count * size);
  let state = 7;
  for (let i = 0; i < x.length; i++) {
    state = (state * 16807) % 2147483647; // Park–Miller: the same values on every run
    x[i] = state / 2147483647;
  }
  return { x, y: Uint8Array.from({ length: count }, (_, i) => (i * 7) % 10), count, inputShape, numClasses: 10 };
}

describe('worker evaluator', () => {
  let evaluator: Evaluator;
  beforeAll(() => {
    evaluator = createWorkerEvaluator();
  });
  afterAll(() => evaluator.close());

  it("equals the agent's evaluate() on the wasm backend, to the last bit", async () => {
    const model = createInitialModel('mnist-2nn', 11);
    const data = examples(300, [784]);
    const atHub = await evaluator.evaluate({ ...model, data });
    await initBackend('wasm');
    const onDevice = await evaluate({ ...model, data });
    expect(atHub).toEqual(onDevice);
    expect(atHub.count).toBe(300);
    // The caller's arrays are copied to the worker, not moved: they stay usable.
    expect(data.x.length).toBe(300 * 784);
    expect(model.weights[0]!.data.length).toBe(784 * 200);
  }, 60_000);

  it('keeps the event loop turning while it evaluates', async () => {
    const model = createInitialModel('tiny-cnn', 5);
    await evaluator.evaluate({ ...model, data: examples(2, [28, 28, 1]) }); // the worker is up and has the backend
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      // Some hundreds of milliseconds of convolutions: on the calling thread no timer could fire until it ends.
      const result = await evaluator.evaluate({ ...model, data: examples(1000, [28, 28, 1]) });
      expect(result.count).toBe(1000);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  }, 60_000);

  it("reports the agent's error code, and evaluates the next request", async () => {
    const model = createInitialModel('mnist-2nn', 11);
    const wrong = { ...model, weights: model.weights.slice(1), data: examples(3, [784]) };
    const error = await evaluator.evaluate(wrong).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'HUB_ERR_EVALUATION_FAILED', statusCode: 500, details: { code: 'AGENT_ERR_WEIGHTS_MISMATCH' } });
    expect((error as Error).message).toMatch(/^hub-side evaluation failed: AGENT_ERR_WEIGHTS_MISMATCH: /);
    expect((await evaluator.evaluate({ ...model, data: examples(3, [784]) })).count).toBe(3);
  }, 60_000);

  it('rejects what is pending and what comes after close', async () => {
    const closing = createWorkerEvaluator();
    const model = createInitialModel('mnist-2nn', 2);
    // The expectation is attached before close() rejects the promise: an unhandled rejection would end the process
    // (the wasm backend's emscripten glue, loaded by the first test, rethrows them).
    const pending = expect(closing.evaluate({ ...model, data: examples(3, [784]) })).rejects.toMatchObject({ code: 'HUB_ERR_EVALUATION_FAILED', message: /closed/ });
    await closing.close();
    await pending;
    await expect(closing.evaluate({ ...model, data: examples(3, [784]) })).rejects.toMatchObject({ code: 'HUB_ERR_EVALUATION_FAILED' });
  });

  it('is the hub\'s `evaluator`, and ends with the hub', async () => {
    const { hub } = await startTestHub({ listen: false });
    const model = createInitialModel('mnist-2nn', 2);
    expect((await hub.evaluator.evaluate({ ...model, data: examples(3, [784]) })).count).toBe(3);
    await hub.close();
    await expect(hub.evaluator.evaluate({ ...model, data: examples(3, [784]) })).rejects.toMatchObject({ code: 'HUB_ERR_EVALUATION_FAILED', message: /closed/ });
  });
});
