import { mulberry32, type ModelWeights } from '@fedfleet/proto';
import { describe, expect, it } from 'vitest';
import { createStrategy, type ClientUpdate, type StrategyName, type StrategyOptions } from '../../src/rounds/strategies/index.js';

/** Standard normal draws (Box–Muller) from a seeded uniform source. */
function gaussian(rng: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Runs one round of `name` on 1-D deltas given as plain arrays; returns the new weights as an array. */
function aggregate1d(name: StrategyName, options: StrategyOptions, global: number[], deltas: number[][]): number[] {
  const agg = createStrategy(name, options).begin([{ name: 'w', shape: [global.length], data: new Float32Array(global) }]);
  deltas.forEach((d, k) => agg.add({ deviceId: `c${k}`, exampleCount: 1 + k, delta: [{ name: 'w', shape: [d.length], data: new Float32Array(d) }] }));
  return [...agg.finish()[0].data];
}

describe('robust strategies, hand-computed', () => {
  // Five clients, two coordinates; client 3 is an outlier on coordinate 0.
  const deltas = [[1, 10], [2, -1], [3, 5], [100, 0], [-7, 2]];

  it('FedMedian takes the coordinate-wise median (mean of the middle two for an even count)', () => {
    // coord 0: −7 1 2 3 100 → 2; coord 1: −1 0 2 5 10 → 2
    expect(aggregate1d('fedmedian', {}, [10, 20], deltas)).toEqual([12, 22]);
    // coord 0: 1 2 3 100 → 2.5; coord 1: −1 0 5 10 → 2.5
    expect(aggregate1d('fedmedian', {}, [0, 0], deltas.slice(0, 4))).toEqual([2.5, 2.5]);
  });

  it('FedTrimmedAvg drops ⌊βn⌋ values at each end per coordinate and ignores example counts', () => {
    // β = 0.2, n = 5 → cut 1 per side. coord 0: mean(1, 2, 3) = 2; coord 1: mean(0, 2, 5) = 7/3
    const [a, b] = aggregate1d('fedtrimmedavg', { trimFraction: 0.2 }, [0, 0], deltas);
    expect(a).toBeCloseTo(2, 6);
    expect(b).toBeCloseTo(7 / 3, 6);
    // β = 0: plain unweighted mean. coord 0: 99/5
    expect(aggregate1d('fedtrimmedavg', { trimFraction: 0 }, [0, 0], deltas)[0]).toBeCloseTo(99 / 5, 5);
  });

  it('Krum picks the update with the smallest summed distance to its n − f − 2 nearest; Multi-Krum averages the m best', () => {
    const points = [[0], [1], [2], [3], [100]];
    // f = 1 → 2 neighbours. Scores: 0 → 1+4 = 5; 1 → 1+1 = 2; 2 → 1+1 = 2; 3 → 1+4 = 5; 100 → 97²+98².
    // Tie between clients 1 and 2 → the earlier, client 1.
    expect(aggregate1d('krum', { byzantine: 1 }, [10], points)).toEqual([11]);
    // m = 3 → clients 1, 2 and (tie 0 vs 3 → earlier) 0 → mean(1, 2, 0) = 1, unweighted.
    expect(aggregate1d('krum', { byzantine: 1, multiKrum: 3 }, [10], points)).toEqual([11]);
    // m = 2 → clients 1 and 2 → 1.5
    expect(aggregate1d('krum', { byzantine: 1, multiKrum: 2 }, [10], points)).toEqual([11.5]);
    // The neighbour count matters: with n − f − 2 = 2 neighbours the loose cluster's centre (11) wins
    // (scores 0 → 100.0001, 0.01 → 99.8001, 10 → 5, 11 → 2, 12 → 5); 1 neighbour would pick the tight pair
    // {0, 0.01}, 3 neighbours would pick 10.
    const [picked] = aggregate1d('krum', { byzantine: 1 }, [0], [[0], [0.01], [10], [11], [12]]);
    expect(picked).toBe(11);
  });

  it('Krum distances span all tensors of the model', () => {
    // Tensor a alone would favour client 0; the whole vector (a, b) favours client 1.
    const global: ModelWeights = [
      { name: 'a', shape: [1], data: new Float32Array([0]) },
      { name: 'b', shape: [1], data: new Float32Array([0]) },
    ];
    const agg = createStrategy('krum').begin(global); // f = 0 → 1 neighbour, needs ≥ 3 updates
    const rows = [[0, 50], [0.5, 0], [1, 0]];
    rows.forEach(([a, b], k) => agg.add({
      deviceId: `c${k}`, exampleCount: 1,
      delta: [{ name: 'a', shape: [1], data: new Float32Array([a]) }, { name: 'b', shape: [1], data: new Float32Array([b]) }],
    }));
    const result = agg.finish();
    expect([result[0].data[0], result[1].data[0]]).toEqual([0.5, 0]);
  });
});

describe('robustness: 9 honest clients and 1 Byzantine client', () => {
  const shapes = [[32, 24], [24], [24, 10], [10]];
  const params = shapes.reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
  const rng = mulberry32(2024);
  const normal = gaussian(rng);

  // The common direction honest clients' local training moves in, and a global model to move.
  const direction = new Float64Array(params).map(() => 0.01 * normal());
  const global: ModelWeights = shapes.map((shape, t) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = 0.1 * normal();
    return { name: `layer${t}`, shape, data };
  });

  function unflatten(flat: Float64Array): ModelWeights {
    let offset = 0;
    return shapes.map((shape, t) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from(flat.subarray(offset, offset + n));
      offset += n;
      return { name: `layer${t}`, shape, data };
    });
  }

  // Honest deltas: the direction plus 30 % per-coordinate noise (non-IID data, different batches).
  const honest: Float64Array[] = Array.from({ length: 9 }, () => direction.map((d) => d + 0.003 * normal()));
  const honestMean = new Float64Array(params);
  for (const h of honest) for (let i = 0; i < params; i++) honestMean[i] += h[i] / 9;

  const attacks: Record<string, Float64Array> = {
    // Model-replacement / boosting: a real update scaled ×100.
    'scaled ×100': honest[0].map((v) => v * 100),
    // Random huge update.
    'random huge': new Float64Array(params).map(() => 10 * normal()),
    // Sign flip, boosted.
    'sign-flipped ×20': honest[1].map((v) => -20 * v),
  };

  /** ‖a − b‖ / ‖b‖ */
  function relativeError(a: Float64Array, b: Float64Array): number {
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.length; i++) {
      num += (a[i] - b[i]) ** 2;
      den += b[i] ** 2;
    }
    return Math.sqrt(num / den);
  }

  function cosine(a: Float64Array, b: Float64Array): number {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] ** 2;
      nb += b[i] ** 2;
    }
    return dot / Math.sqrt(na * nb);
  }

  /** The aggregated step (new global − old global), flattened. */
  function aggregatedStep(name: StrategyName, options: StrategyOptions, byzantine: Float64Array, attackerExamples: number): Float64Array {
    const agg = createStrategy(name, options).begin(global);
    const updates: ClientUpdate[] = honest.map((h, k) => ({ deviceId: `honest-${k}`, exampleCount: 100, delta: unflatten(h) }));
    updates.splice(4, 0, { deviceId: 'byzantine', exampleCount: attackerExamples, delta: unflatten(byzantine) });
    for (const u of updates) agg.add(u);
    const next = agg.finish();
    const step = new Float64Array(params);
    let offset = 0;
    for (let t = 0; t < next.length; t++) {
      for (let i = 0; i < next[t].data.length; i++) step[offset + i] = next[t].data[i] - global[t].data[i];
      offset += next[t].data.length;
    }
    return step;
  }

  const robust: Array<[StrategyName, StrategyOptions, number]> = [
    ['fedmedian', {}, 0.25],
    ['fedtrimmedavg', { trimFraction: 0.2 }, 0.2],
    ['krum', { byzantine: 1 }, 0.45], // a single honest update: its own noise (≈ 30 %) remains
    ['krum', { byzantine: 1, multiKrum: 5 }, 0.25],
  ];

  for (const [attack, byzantine] of Object.entries(attacks)) {
    for (const attackerExamples of [100, 10_000]) {
      it(`${attack}, attacker claims ${attackerExamples} examples: FedAvg is wrecked, robust rules stay useful`, () => {
        const fedavg = aggregatedStep('fedavg', {}, byzantine, attackerExamples);
        const fedavgError = relativeError(fedavg, honestMean);
        expect(fedavgError).toBeGreaterThan(1.5);

        for (const [name, options, bound] of robust) {
          const step = aggregatedStep(name, options, byzantine, attackerExamples);
          const error = relativeError(step, honestMean);
          expect(error, `${name} ${JSON.stringify(options)}`).toBeLessThan(bound);
          expect(cosine(step, direction), `${name} usefulness`).toBeGreaterThan(0.9);
          expect(error * 5).toBeLessThan(fedavgError);
        }
      });
    }
  }

  it('without an attacker, FedAvg recovers the honest (equal-weight) mean and robust rules are close to it', () => {
    const agg = createStrategy('fedavg').begin(global);
    honest.forEach((h, k) => agg.add({ deviceId: `h${k}`, exampleCount: 100, delta: unflatten(h) }));
    const next = agg.finish();
    let offset = 0;
    const step = new Float64Array(params);
    for (let t = 0; t < next.length; t++) {
      for (let i = 0; i < next[t].data.length; i++) step[offset + i] = next[t].data[i] - global[t].data[i];
      offset += next[t].data.length;
    }
    expect(relativeError(step, honestMean)).toBeLessThan(1e-4);
  });
});
