import * as tf from '@tensorflow/tfjs';
import type { ModelWeights } from '@fedfleet/proto';
import { readWeights } from '../../src/ml/index.js';

/** A small seeded MLP 784-16-10 (a cheap stand-in for the 2NN) as topology JSON plus its initial weights. */
export function smallMlp(seed = 1, hidden = 16): { topologyJson: string; weights: ModelWeights } {
  const model = tf.sequential({
    name: 'small_mlp',
    layers: [
      tf.layers.dense({ name: 'hidden', units: hidden, activation: 'relu', inputShape: [784], kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ name: 'output', units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  try {
    return { topologyJson: JSON.stringify(model.toJSON(null, false)), weights: readWeights(model) };
  } finally {
    model.dispose();
  }
}

/** Deterministic values in [−1, 1). */
export function pseudoRandom(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function l2Distance(a: ModelWeights, b: ModelWeights): number {
  let sum = 0;
  a.forEach((w, i) => {
    for (let j = 0; j < w.data.length; j++) sum += (w.data[j]! - b[i]!.data[j]!) ** 2;
  });
  return Math.sqrt(sum);
}
