import v8 from 'node:v8';
import vm from 'node:vm';
import { mulberry32, type ModelWeights } from '@fedfleet/proto';
import { describe, expect, it } from 'vitest';
import { createStrategy, type ClientUpdate } from '../../src/rounds/strategies/index.js';
import { codeOf } from './strategy-helpers.js';

function randomWeights(shapes: number[][], rng: () => number, names = shapes.map((_, i) => `t${i}`)): ModelWeights {
  return shapes.map((shape, t) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = rng() * 2 - 1;
    return { name: names[t], shape, data };
  });
}

/** A full garbage collector, even without --expose-gc on the command line. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * Collects garbage until ArrayBuffer accounting has settled: WeakRef targets live until the current job ends,
 * and freed backing stores are only subtracted from `arrayBuffers` on a later cycle, so run a few
 * macrotask + full-GC rounds.
 */
async function settle(gc: () => void): Promise<number> {
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return process.memoryUsage().arrayBuffers;
}

describe('FedAvg (McMahan et al. 2017)', () => {
  it('equals Σ nₖwₖ / Σ nₖ from a brute-force computation, to 1e-6', () => {
    const rng = mulberry32(42);
    const shapes = [[7, 5], [5], [3, 3, 2, 4], [1]];
    const global = randomWeights(shapes, rng);
    const clients = Array.from({ length: 13 }, (_, k) => ({
      deviceId: `dev-${k}`,
      exampleCount: 1 + Math.floor(rng() * 500),
      delta: randomWeights(shapes, rng).map((w) => ({ ...w, data: w.data.map((v) => v * 0.1) })),
    }));
    const agg = createStrategy('fedavg').begin(global);
    for (const c of clients) agg.add(c);
    expect(agg.count).toBe(13);
    const result = agg.finish();

    const total = clients.reduce((s, c) => s + c.exampleCount, 0);
    for (let t = 0; t < shapes.length; t++) {
      expect(result[t].name).toBe(global[t].name);
      expect(result[t].shape).toEqual(shapes[t]);
      for (let i = 0; i < global[t].data.length; i++) {
        let weighted = 0; // Σ nₖ wₖ with wₖ = global + Δₖ, the paper's form
        for (const c of clients) weighted += c.exampleCount * (global[t].data[i] + c.delta[t].data[i]);
        expect(Math.abs(result[t].data[i] - weighted / total)).toBeLessThan(1e-6);
      }
    }
  });

  it('computes a hand-checked case and leaves the global weights untouched', () => {
    const global: ModelWeights = [{ name: 'w', shape: [2], data: new Float32Array([1, 2]) }];
    const agg = createStrategy('fedavg').begin(global);
    agg.add({ deviceId: 'a', exampleCount: 1, delta: [{ name: 'w', shape: [2], data: new Float32Array([1, 0]) }] });
    agg.add({ deviceId: 'b', exampleCount: 3, delta: [{ name: '', shape: [2], data: new Float32Array([-1, 4]) }] });
    // mean delta = ([1, 0]·1 + [−1, 4]·3) / 4 = [−0.5, 3]
    expect([...agg.finish()[0].data]).toEqual([0.5, 5]);
    expect([...global[0].data]).toEqual([1, 2]);
  });

  it('FedProx aggregates like FedAvg and hands μ to clients', () => {
    const rng = mulberry32(7);
    const global = randomWeights([[4, 3]], rng);
    const updates: ClientUpdate[] = [1, 2, 3].map((k) => ({ deviceId: `d${k}`, exampleCount: k * 10, delta: randomWeights([[4, 3]], rng) }));
    const prox = createStrategy('fedprox', { proximalMu: 0.1 });
    const avg = createStrategy('fedavg');
    const a = prox.begin(global);
    const b = avg.begin(global);
    for (const u of updates) {
      a.add(u);
      b.add(u);
    }
    expect(a.finish()[0].data).toEqual(b.finish()[0].data);
    expect(prox.clientConfig()).toEqual({ proximalMu: 0.1 });
    expect(createStrategy('fedprox').clientConfig().proximalMu).toBe(0.01);
    expect(avg.clientConfig()).toEqual({ proximalMu: 0 });
  });

  it('streams: 1,000 updates of a 256 KiB model leave no update reachable and memory flat', async () => {
    const gc = collector();
    const params = 65_536;
    const shapes = [[256, 255], [256]];
    expect(shapes[0][0] * shapes[0][1] + shapes[1][0]).toBe(params);
    const global: ModelWeights = shapes.map((shape, t) => ({ name: `t${t}`, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }));
    const agg = createStrategy('fedavg').begin(global);
    const sentinels: WeakRef<Float32Array>[] = [];
    const before = await settle(gc);
    for (let k = 0; k < 1000; k++) {
      const delta = shapes.map((shape, t) => ({ name: `t${t}`, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(k % 10) }));
      if (k % 50 === 0) sentinels.push(new WeakRef(delta[0].data));
      agg.add({ deviceId: `dev-${k}`, exampleCount: 1, delta });
    }
    const growth = (await settle(gc)) - before;
    expect(sentinels.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    // Retaining the updates would cost 1,000 × 256 KiB = 256 MiB; the accumulators are 512 KiB of Float64.
    expect(growth).toBeLessThan(16 * params * 4);
    const result = agg.finish();
    expect(result[0].data[0]).toBeCloseTo(4.5, 6); // mean of 0..9
    expect(result[1].data[255]).toBeCloseTo(4.5, 6);
  });

  it('the memory probe does detect retention (control: FedMedian buffers every update)', async () => {
    const gc = collector();
    const params = 65_536;
    const global: ModelWeights = [{ name: 'w', shape: [params], data: new Float32Array(params) }];
    const agg = createStrategy('fedmedian').begin(global);
    const before = await settle(gc);
    for (let k = 0; k < 64; k++) agg.add({ deviceId: `d${k}`, exampleCount: 1, delta: [{ name: 'w', shape: [params], data: new Float32Array(params) }] });
    expect((await settle(gc)) - before).toBeGreaterThan(0.9 * 64 * params * 4);
  });
});

describe('aggregator guards (every strategy)', () => {
  const names = ['fedavg', 'fedprox', 'fedavgm', 'fedadam', 'fedmedian', 'fedtrimmedavg', 'krum'] as const;
  const global: ModelWeights = [
    { name: 'k', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    { name: 'b', shape: [2], data: new Float32Array([0, 0]) },
  ];
  const delta = (v: number): ModelWeights => [
    { name: 'k', shape: [2, 2], data: new Float32Array(4).fill(v) },
    { name: 'b', shape: [2], data: new Float32Array(2).fill(v) },
  ];

  for (const name of names) {
    it(`${name}: rejects bad updates without changing the aggregation, and misuse`, () => {
      const strategy = createStrategy(name);
      const agg = strategy.begin(global);
      expect(codeOf(() => agg.finish())).toBe('HUB_ERR_AGG_NO_UPDATES');
      const bad: Array<[string, ClientUpdate]> = [
        ['HUB_ERR_AGG_SHAPE_MISMATCH', { deviceId: 'x', exampleCount: 1, delta: delta(1).slice(0, 1) }],
        ['HUB_ERR_AGG_SHAPE_MISMATCH', { deviceId: 'x', exampleCount: 1, delta: [delta(1)[0], { name: 'b', shape: [1, 2], data: new Float32Array(2) }] }],
        ['HUB_ERR_AGG_SHAPE_MISMATCH', { deviceId: 'x', exampleCount: 1, delta: [delta(1)[0], { name: 'b', shape: [2], data: new Float32Array(3) }] }],
        ['HUB_ERR_AGG_SHAPE_MISMATCH', { deviceId: 'x', exampleCount: 1, delta: [delta(1)[1], delta(1)[0]] }],
        ['HUB_ERR_AGG_SHAPE_MISMATCH', { deviceId: 'x', exampleCount: 1, delta: [{ ...delta(1)[0], name: 'other' }, delta(1)[1]] }],
        ['HUB_ERR_AGG_NON_FINITE', { deviceId: 'x', exampleCount: 1, delta: [delta(1)[0], { name: 'b', shape: [2], data: new Float32Array([0, Number.NaN]) }] }],
        ['HUB_ERR_AGG_NON_FINITE', { deviceId: 'x', exampleCount: 1, delta: [delta(1)[0], { name: 'b', shape: [2], data: new Float32Array([Number.POSITIVE_INFINITY, 0]) }] }],
        ['HUB_ERR_AGG_BAD_EXAMPLE_COUNT', { deviceId: 'x', exampleCount: 0, delta: delta(1) }],
        ['HUB_ERR_AGG_BAD_EXAMPLE_COUNT', { deviceId: 'x', exampleCount: Number.NaN, delta: delta(1) }],
      ];
      for (const [code, update] of bad) expect(codeOf(() => agg.add(update))).toBe(code);
      expect(agg.count).toBe(0);

      for (let k = 0; k < strategy.minUpdates - 1; k++) agg.add({ deviceId: `d${k}`, exampleCount: 1, delta: delta(0.5) });
      if (strategy.minUpdates > 1) expect(codeOf(() => agg.finish())).toBe('HUB_ERR_AGG_TOO_FEW_UPDATES');
      agg.add({ deviceId: 'last', exampleCount: 1, delta: delta(0.5) });
      expect(codeOf(() => agg.add({ deviceId: 'last', exampleCount: 1, delta: delta(0.5) }))).toBe('HUB_ERR_AGG_DUPLICATE_DEVICE');
      expect(agg.count).toBe(strategy.minUpdates);
      const result = agg.finish();
      // All accepted deltas are 0.5 and the rejected ones left no trace: every strategy moves by a positive step
      // along +0.5 (FedAvg-like and robust rules by exactly 0.5).
      if (name !== 'fedavgm' && name !== 'fedadam') expect([...result[0].data]).toEqual([1.5, 2.5, 3.5, 4.5]);
      for (let i = 0; i < 4; i++) expect(result[0].data[i]).toBeGreaterThan(global[0].data[i]);
      expect(codeOf(() => agg.finish())).toBe('HUB_ERR_AGG_FINISHED');
      expect(codeOf(() => agg.add({ deviceId: 'late', exampleCount: 1, delta: delta(0.5) }))).toBe('HUB_ERR_AGG_FINISHED');
    });
  }

  it('rejects a global model whose data does not match its shape', () => {
    expect(codeOf(() => createStrategy('fedavg').begin([{ name: 'k', shape: [3], data: new Float32Array(2) }]))).toBe('HUB_ERR_AGG_SHAPE_MISMATCH');
  });
});
