import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/ml/index.js';

// Its own file, so the process starts with no backend initialised: the race only exists on first use.
describe('initBackend under concurrency', () => {
  it('lets every concurrent first caller wait for the same initialisation', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, async () => {
      const name = await initBackend();
      // Building a tensor right after initBackend resolves must work for every caller.
      const t = tf.tensor([1, 2, 3]);
      const sum = (await t.sum().data())[0];
      t.dispose();
      return { name, sum };
    }));
    expect(results).toEqual(Array(5).fill({ name: 'wasm', sum: 6 }));
  });
});
