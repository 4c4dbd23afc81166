import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  evaluate,
  initBackend,
  mnistDataSource,
  mnistGlobal,
  subsetDataset,
  trainCentral,
  trainLocal,
  type TrainOptions,
  type TrainProgress,
} from '../../src/ml/index.js';
import { l2Distance, smallMlp } from './fixtures.js';

let model: ReturnType<typeof smallMlp>;
const device = (index: number) => mnistDataSource({ devices: 100, index, partition: 'iid', seed: 1 });

/** One FedAvg ClientUpdate on 80 digits: E = 2, B = 10 (16 SGD steps). */
function options(overrides: Partial<TrainOptions> = {}): TrainOptions {
  return { ...model, data: device(0), epochs: 2, batchSize: 10, learningRate: 0.05, seed: 7, ...overrides };
}

beforeAll(async () => {
  await initBackend('wasm');
  model = smallMlp(5);
});

describe('trainLocal', () => {

  it('trains: test loss drops, delta = trained − base, every batch is reported', async () => {
    const progress: TrainProgress[] = [];
    const result = await trainLocal(options({ epochs: 3, onProgress: (p) => progress.push(p) }));
    expect(result.exampleCount).toBe(80);
    expect(result.metrics.evalExamples).toBe(20);
    expect(result.metrics.lossAfter).toBeLessThan(result.metrics.lossBefore);
    expect(result.metrics.trainLoss).toBeGreaterThan(0);
    expect(result.metrics.trainMs).toBeGreaterThan(0);
    expect(progress).toHaveLength(3 * 8);
    expect(progress.at(-1)).toMatchObject({ epoch: 3, epochs: 3, batch: 8, batches: 8, fraction: 1 });
    result.delta.forEach((d, i) => {
      expect(d.name).toBe(model.weights[i]!.name);
      for (let j = 0; j < d.data.length; j += 97) {
        expect(d.data[j]).toBeCloseTo(result.weights[i]!.data[j]! - model.weights[i]!.data[j]!, 6);
      }
    });
    expect(l2Distance(result.weights, model.weights)).toBeGreaterThan(0);
  });

  it('is deterministic: same inputs and seed ⇒ identical weights; another seed differs', async () => {
    const a = await trainLocal(options());
    const b = await trainLocal(options());
    const c = await trainLocal(options({ seed: 8 }));
    a.weights.forEach((w, i) => expect(w.data).toEqual(b.weights[i]!.data));
    expect(l2Distance(a.weights, c.weights)).toBeGreaterThan(0);
  });

  it('does not leak tensors', async () => {
    await trainLocal(options({ epochs: 1 }));
    const before = tf.memory().numTensors;
    await trainLocal(options({ epochs: 1, proximalMu: 0.5 }));
    await trainLocal(options({ epochs: 1 }));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('FedProx: with μ > 0 the trained weights end closer to the global weights', async () => {
    const plain = await trainLocal(options({ epochs: 3 }));
    const prox = await trainLocal(options({ epochs: 3, proximalMu: 1 }));
    expect(l2Distance(prox.weights, model.weights)).toBeLessThan(l2Distance(plain.weights, model.weights));
  });

  it('caps the examples with maxExamples and supports B = ∞ (one full batch)', async () => {
    const progress: TrainProgress[] = [];
    const result = await trainLocal(options({ maxExamples: 30, batchSize: Infinity, epochs: 2, onProgress: (p) => progress.push(p) }));
    expect(result.exampleCount).toBe(30);
    expect(progress.map((p) => p.batches)).toEqual([1, 1]);
  });

  it('stops between batches with AGENT_ERR_CANCELLED when the signal aborts', async () => {
    const controller = new AbortController();
    const seen: TrainProgress[] = [];
    const tensors = tf.memory().numTensors;
    const run = trainLocal(
      options({
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.batch === 3) controller.abort();
        },
      }),
    );
    await expect(run).rejects.toMatchObject({ code: 'AGENT_ERR_CANCELLED' });
    expect(seen).toHaveLength(3);
    expect(tf.memory().numTensors).toBe(tensors);
    await expect(trainLocal(options({ signal: AbortSignal.abort() }))).rejects.toMatchObject({ code: 'AGENT_ERR_CANCELLED' });
  });

  it('reports every invalid option at once with AGENT_ERR_BAD_OPTIONS', async () => {
    const error = await trainLocal(options({ epochs: 0, batchSize: 2.5, learningRate: -1, proximalMu: Number.NaN })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AGENT_ERR_BAD_OPTIONS' });
    expect(String((error as Error).message)).toMatch(/epochs.*batchSize.*learningRate.*proximalMu/);
  });

  it('fails with AGENT_ERR_DATA_FORMAT when the data does not fit the model', async () => {
    const train = { x: new Float32Array(4 * 10), y: new Uint8Array(4), count: 4, inputShape: [10], numClasses: 10 };
    await expect(trainLocal(options({ data: { train, test: train } }))).rejects.toMatchObject({ code: 'AGENT_ERR_DATA_FORMAT' });
  });

  it('trainCentral trains on the union of the partitions', async () => {
    const result = await trainCentral({ ...model, parts: [device(0), device(1), device(2)], epochs: 1, batchSize: 10, learningRate: 0.05 });
    expect(result.exampleCount).toBe(240);
    expect(result.metrics.evalExamples).toBe(60);
  });
});

describe('evaluate', () => {
  it('agrees with tfjs on loss and accuracy', async () => {
    await initBackend('wasm');
    const data = subsetDataset(mnistGlobal().test, Array.from({ length: 300 }, (_, i) => i));
    const result = await evaluate({ ...model, data, batchSize: 64 });
    const m = await tf.models.modelFromJSON(JSON.parse(model.topologyJson));
    m.setWeights(model.weights.map((w) => tf.tensor(w.data, w.shape)));
    const [loss, accuracy] = tf.tidy(() => {
      const probs = m.predict(tf.tensor(data.x, [300, 784])) as tf.Tensor;
      const labels = tf.oneHot(tf.tensor1d(data.y, 'int32'), 10);
      const ce = tf.metrics.categoricalCrossentropy(labels, probs).mean();
      const acc = tf.metrics.categoricalAccuracy(labels, probs).mean();
      return [ce.dataSync()[0]!, acc.dataSync()[0]!];
    });
    m.dispose();
    expect(result.count).toBe(300);
    expect(result.loss).toBeCloseTo(loss, 4);
    expect(result.accuracy).toBeCloseTo(accuracy, 6);
  });

  it('returns NaN metrics and count 0 on an empty set', async () => {
    const empty = { x: new Float32Array(0), y: new Uint8Array(0), count: 0, inputShape: [784], numClasses: 10 };
    expect(await evaluate({ ...model, data: empty })).toEqual({ loss: Number.NaN, accuracy: Number.NaN, count: 0 });
  });
});
