import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend, modelFromTopology, readWeights, writeWeights } from '../../src/ml/index.js';
import { smallMlp } from './fixtures.js';

describe('model <-> weights', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('builds a model from topology JSON and loads the given weights in getWeights() order', async () => {
    const { topologyJson, weights } = smallMlp(3);
    const changed = weights.map((w, i) => ({ ...w, data: w.data.map((_, j) => i + j * 1e-3) }));
    const model = await modelFromTopology(topologyJson, changed);
    const read = readWeights(model);
    expect(read.map((w) => w.name)).toEqual(['hidden/kernel', 'hidden/bias', 'output/kernel', 'output/bias']);
    expect(read.map((w) => w.shape)).toEqual([[784, 16], [16], [16, 10], [10]]);
    read.forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(changed[i]!.data)));
    expect(model.getWeights().map((t) => t.shape)).toEqual(read.map((w) => w.shape));
    model.dispose();
  });

  it('keeps manifest names when the same topology is built twice in one process', async () => {
    const { topologyJson, weights } = smallMlp(3);
    const a = await modelFromTopology(topologyJson, weights);
    const b = await modelFromTopology(topologyJson, weights);
    expect(readWeights(b).map((w) => w.name)).toEqual(readWeights(a).map((w) => w.name));
    a.dispose();
    b.dispose();
  });

  it('accepts a whole model.json as well as its modelTopology', async () => {
    const { topologyJson } = smallMlp(3);
    const model = await modelFromTopology(JSON.stringify({ modelTopology: JSON.parse(topologyJson), weightsManifest: [] }));
    expect(model.countParams()).toBe(784 * 16 + 16 + 16 * 10 + 10);
    model.dispose();
  });

  it('does not alias the caller’s arrays', async () => {
    await initBackend('cpu');
    const { topologyJson, weights } = smallMlp(3);
    const model = await modelFromTopology(topologyJson, weights);
    const before = readWeights(model)[0]!.data[0];
    weights[0]!.data[0] = 123;
    expect(readWeights(model)[0]!.data[0]).toBe(before);
    model.dispose();
    await initBackend('wasm');
  });

  it('rejects weights that do not fit, with AGENT_ERR_WEIGHTS_MISMATCH, and leaks nothing', async () => {
    const { topologyJson, weights } = smallMlp(3);
    const tensors = tf.memory().numTensors;
    await expect(modelFromTopology(topologyJson, weights.slice(1))).rejects.toMatchObject({ code: 'AGENT_ERR_WEIGHTS_MISMATCH' });
    const wrongShape = weights.map((w, i) => (i === 2 ? { ...w, shape: [10, 16] } : w));
    await expect(modelFromTopology(topologyJson, wrongShape)).rejects.toMatchObject({ code: 'AGENT_ERR_WEIGHTS_MISMATCH' });
    const wrongName = weights.map((w, i) => (i === 0 ? { ...w, name: 'other/kernel' } : w));
    await expect(modelFromTopology(topologyJson, wrongName)).rejects.toMatchObject({ code: 'AGENT_ERR_WEIGHTS_MISMATCH' });
    const short = weights.map((w, i) => (i === 1 ? { ...w, data: new Float32Array(3) } : w));
    const model = await modelFromTopology(topologyJson);
    expect(() => writeWeights(model, short)).toThrow(expect.objectContaining({ code: 'AGENT_ERR_WEIGHTS_MISMATCH' }));
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('builds from zeros when weights are given: no initializer runs, so an oversized topology is refused at once', async () => {
    // Glorot (every kernel's default) and He are VarianceScaling initializers.
    const varianceScaling = Object.getPrototypeOf(Object.getPrototypeOf(tf.initializers.glorotUniform({}))) as { apply(...args: unknown[]): unknown };
    const { topologyJson, weights } = smallMlp(4);
    const apply = vi.spyOn(varianceScaling, 'apply');
    try {
      const model = await modelFromTopology(topologyJson, weights);
      expect(readWeights(model)).toEqual(weights);
      model.dispose();
      expect(apply).not.toHaveBeenCalled();
      // 784 × 10^6 declared weights (3 GB of Glorot noise to draw before the check), 785 given: refused, nothing drawn.
      const layer = (units: number, name: string) => ({ class_name: 'Dense', config: { name, units, activation: 'linear', use_bias: true } });
      const huge = { class_name: 'Sequential', config: { name: 'huge', layers: [{ ...layer(1_000_000, 'd'), config: { ...layer(1_000_000, 'd').config, batch_input_shape: [null, 784] } }] } };
      const tiny = [{ name: 'd/kernel', shape: [784, 1], data: new Float32Array(784) }, { name: 'd/bias', shape: [1], data: new Float32Array(1) }];
      const tensors = tf.memory().numTensors;
      await expect(modelFromTopology(JSON.stringify(huge), tiny)).rejects.toMatchObject({ code: 'AGENT_ERR_WEIGHTS_MISMATCH' });
      // The old Sequential format (config is the list of layers) is covered too.
      const legacy = { class_name: 'Sequential', config: huge.config.layers };
      await expect(modelFromTopology(JSON.stringify(legacy), tiny)).rejects.toMatchObject({ code: 'AGENT_ERR_WEIGHTS_MISMATCH' });
      expect(apply).not.toHaveBeenCalled();
      expect(tf.memory().numTensors).toBe(tensors);
      // Without weights the topology's own initializers run, as before.
      (await modelFromTopology(topologyJson)).dispose();
      expect(apply).toHaveBeenCalled();
    } finally {
      apply.mockRestore();
    }
  });

  it('rejects a broken topology with AGENT_ERR_BAD_MODEL', async () => {
    await expect(modelFromTopology('{not json')).rejects.toMatchObject({ code: 'AGENT_ERR_BAD_MODEL' });
    await expect(modelFromTopology('{"class_name":"NoSuchLayer","config":{}}')).rejects.toMatchObject({ code: 'AGENT_ERR_BAD_MODEL' });
  });
});
