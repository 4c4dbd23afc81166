/**
 * Seeded pseudo-random numbers for everything in the data and ML layers that must be reproducible: the MNIST
 * split, partitions across devices, and the per-epoch shuffle of local training. Never `Math.random()`.
 */

import { standardNormal } from '@fedfleet/proto';

export { mixSeed, mulberry32, standardNormal } from '@fedfleet/proto';

/** Uniform integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/** Fisher–Yates shuffle in place; returns `values`. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(values: T, random: () => number): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = values[i]!;
    values[i] = values[j]!;
    values[j] = tmp;
  }
  return values;
}

/** A seeded permutation of 0..n-1. */
export function permutation(n: number, random: () => number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return shuffleInPlace(out, random);
}

/** Gamma(shape, 1) sample (Marsaglia & Tsang 2000; shape < 1 via the boost Gamma(a) = Gamma(a+1)·U^(1/a)). */
export function gammaSample(random: () => number, shape: number): number {
  if (shape < 1) return gammaSample(random, shape + 1) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A sample of Dirichlet(α, …, α) over `k` components: non-negative proportions summing to 1. */
export function dirichletSample(random: () => number, alpha: number, k: number): Float64Array {
  const out = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    out[i] = gammaSample(random, alpha);
    sum += out[i]!;
  }
  // Tiny α can underflow every component to 0; fall back to one-hot on a random component.
  if (!(sum > 0)) {
    out.fill(0);
    out[randomInt(random, k)] = 1;
    return out;
  }
  for (let i = 0; i < k; i++) out[i]! /= sum;
  return out;
}
