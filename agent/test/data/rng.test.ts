import { describe, expect, it } from 'vitest';
import { dirichletSample, gammaSample, mixSeed, mulberry32, permutation } from '../../src/data/index.js';

describe('seeded random numbers', () => {
  it('mulberry32 repeats for a seed and differs across seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('mixSeed gives distinct streams', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => mixSeed(7, i)));
    expect(seeds.size).toBe(1000);
  });

  it('permutation is a seeded permutation', () => {
    const p = permutation(1000, mulberry32(1));
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(permutation(1000, mulberry32(1))).toEqual(p);
  });

  it('gamma has mean ≈ shape; dirichlet sums to 1 and concentrates for small α', () => {
    const random = mulberry32(5);
    for (const shape of [0.3, 1, 4]) {
      let sum = 0;
      for (let i = 0; i < 20000; i++) sum += gammaSample(random, shape);
      expect(sum / 20000).toBeCloseTo(shape, 1);
    }
    const peak = (alpha: number): number => {
      let total = 0;
      for (let i = 0; i < 200; i++) {
        const p = dirichletSample(random, alpha, 10);
        expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
        total += Math.max(...p);
      }
      return total / 200;
    };
    expect(peak(0.05)).toBeGreaterThan(0.6);
    expect(peak(100)).toBeLessThan(0.2);
  });
});
