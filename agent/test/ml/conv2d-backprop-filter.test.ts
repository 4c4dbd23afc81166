import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/ml/index.js';
import { pseudoRandom } from './fixtures.js';

type Pad = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

const CASES: Case[] = [
  { x: [2, 8, 8, 1], filter: [3, 3, 1, 4], strides: 1, pad: 'valid' },
  { x: [4, 28, 28, 1], filter: [3, 3, 1, 8], strides: 1, pad: 'valid' }, // tiny-cnn conv1
  { x: [3, 13, 13, 8], filter: [3, 3, 8, 16], strides: 1, pad: 'valid' }, // tiny-cnn conv2
  { x: [3, 9, 7, 2], filter: [3, 3, 2, 5], strides: 1, pad: 'same' },
  { x: [2, 6, 6, 3], filter: [4, 2, 3, 2], strides: 1, pad: 'same' }, // even filter: asymmetric padding
  { x: [2, 6, 6, 1], filter: [3, 3, 1, 2], strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 10, 10, 3], filter: [5, 3, 3, 2], strides: 2, pad: 'valid' },
  { x: [2, 10, 11, 3], filter: [3, 4, 3, 2], strides: 2, pad: 'same' },
  { x: [1, 7, 7, 2], filter: [2, 2, 2, 3], strides: [2, 3], pad: 'same' },
  { x: [2, 9, 9, 2], filter: [3, 3, 2, 2], strides: 3, pad: 'valid' }, // strided 'valid' skips the last column
];

/** The kernel called directly (the op is not exported by @tensorflow/tfjs). */
function backpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number,
  pad: 'valid' | 'same',
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat, filterShape }) as tf.Tensor;
}

/** dL/dx and dL/dfilter of sum(conv2d(x, f)²) on the given backend. */
async function convGrads(backend: 'cpu' | 'wasm', c: Case, seed: number): Promise<[Float32Array, Float32Array]> {
  await initBackend(backend);
  const x = tf.tensor4d(pseudoRandom(c.x.reduce((a, b) => a * b), seed), c.x);
  const f = tf.tensor4d(pseudoRandom(c.filter.reduce((a, b) => a * b), seed + 1), c.filter);
  const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad)).sum())([x, f]);
  const out: [Float32Array, Float32Array] = [(await dx!.data()) as Float32Array, (await df!.data()) as Float32Array];
  tf.dispose([x, f, dx!, df!]);
  return out;
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return maxDiff / scale;
}

describe('wasm Conv2DBackpropFilter', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterAll(async () => {
    await initBackend('wasm');
  });

  it('is registered on wasm by initBackend (absent from tfjs-backend-wasm 4.22)', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
    expect(tf.getKernel('MaxPoolGrad', 'wasm')).toBeDefined();
  });

  it.each(CASES.map((c) => [`x ${c.x} filter ${c.filter} strides ${c.strides} pad ${JSON.stringify(c.pad)}`, c] as const))(
    'matches the cpu backend: %s',
    async (_name, c) => {
      const [cpuDx, cpuDf] = await convGrads('cpu', c, 7);
      const [wasmDx, wasmDf] = await convGrads('wasm', c, 7);
      expect(wasmDf.length).toBe(cpuDf.length);
      expect(maxRelativeError(wasmDf, cpuDf)).toBeLessThan(1e-4);
      expect(maxRelativeError(wasmDx, cpuDx)).toBeLessThan(1e-4);
    },
  );

  it('frees its intermediate buffers', async () => {
    await initBackend('wasm');
    const x = tf.tensor4d(pseudoRandom(2 * 10 * 10 * 3, 3), [2, 10, 10, 3]);
    const dy = tf.tensor4d(pseudoRandom(2 * 4 * 4 * 2, 4), [2, 4, 4, 2]);
    const run = (): void => backpropFilter(x, dy, [3, 3, 3, 2], 3, 'valid').dispose();
    run();
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([x, dy]);
  });

  it('refuses NCHW with a clear message', async () => {
    await initBackend('wasm');
    const x = tf.zeros([1, 1, 5, 5]) as tf.Tensor4D;
    const dy = tf.zeros([1, 2, 3, 3]) as tf.Tensor4D;
    expect(() => backpropFilter(x, dy, [3, 3, 1, 2], 1, 'valid', 'NCHW')).toThrow(/NHWC/);
    tf.dispose([x, dy]);
  });
});
