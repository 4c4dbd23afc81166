import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
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

  it('rejects a broken topology with AGENT_ERR_BAD_MODEL', async () => {
    await expect(modelFromTopology('{not json')).rejects.toMatchObject({ code: 'AGENT_ERR_BAD_MODEL' });
    await expect(modelFromTopology('{"class_name":"NoSuchLayer","config":{}}')).rejects.toMatchObject({ code: 'AGENT_ERR_BAD_MODEL' });
  });
});
