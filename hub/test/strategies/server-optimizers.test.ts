import { mulberry32, type ModelWeights } from '@fedfleet/proto';
import { describe, expect, it } from 'vitest';
import { createStrategy, type ClientUpdate, type Strategy } from '../../src/rounds/strategies/index.js';
import { codeOf } from './strategy-helpers.js';

const vec = (values: number[]): ModelWeights => [{ name: 'w', shape: [values.length], data: new Float32Array(values) }];

/** One round with a single client whose delta is `delta` (so the mean delta is exactly `delta`). */
function round(strategy: Strategy, global: ModelWeights, delta: number[]): ModelWeights {
  const agg = strategy.begin(global);
  agg.add({ deviceId: 'd', exampleCount: 5, delta: vec(delta) });
  return agg.finish();
}

function randomRounds(seed: number, rounds: number, clients: number, shapes: number[][]): ClientUpdate[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: rounds }, () =>
    Array.from({ length: clients }, (_, k) => ({
      deviceId: `dev-${k}`,
      exampleCount: 1 + Math.floor(rng() * 100),
      delta: shapes.map((shape, t) => {
        const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
        for (let i = 0; i < data.length; i++) data[i] = (rng() - 0.5) * 0.02;
        return { name: `t${t}`, shape, data };
      }),
    })),
  );
}

function runRound(strategy: Strategy, global: ModelWeights, updates: ClientUpdate[]): ModelWeights {
  const agg = strategy.begin(global);
  for (const u of updates) agg.add(u);
  return agg.finish();
}

describe('FedAvgM (Hsu et al. 2019)', () => {
  it('applies v ← βv + Δ̄, w ← w + ηv (hand-computed)', () => {
    const s = createStrategy('fedavgm', { serverLr: 0.5, momentum: 0.9 });
    expect(s.saveState()).toBeNull();
    // Round 1: v = [1, −2]; w = [0, 0] + 0.5·v = [0.5, −1]
    const w1 = round(s, vec([0, 0]), [1, -2]);
    expect([...w1[0].data]).toEqual([0.5, -1]);
    // Round 2: v = 0.9·[1, −2] + [1, 0] = [1.9, −1.8]; w = [0.5, −1] + 0.5·v = [1.45, −1.9]
    const w2 = round(s, w1, [1, 0]);
    expect(w2[0].data[0]).toBeCloseTo(1.45, 6);
    expect(w2[0].data[1]).toBeCloseTo(-1.9, 6);
  });

  it('with momentum 0 and η = 1 equals FedAvg', () => {
    const [updates] = randomRounds(3, 1, 6, [[4, 4]]);
    const global = vec(new Array(16).fill(0.25)).map((w) => ({ ...w, name: 't0', shape: [4, 4] }));
    const a = runRound(createStrategy('fedavgm', { momentum: 0, serverLr: 1 }), global, updates);
    const b = runRound(createStrategy('fedavg'), global, updates);
    expect(a[0].data).toEqual(b[0].data);
  });
});

describe('FedAdam (Reddi et al. 2021)', () => {
  it('applies m, v and w ← w + η·m/(√v + τ) (hand-computed)', () => {
    const s = createStrategy('fedadam', { serverLr: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 });
    // Round 1, Δ̄ = 0.5: m = 0.1·0.5 = 0.05; v = 0.99·τ² + 0.01·0.25 = 0.00250099; w = 0.1·0.05/(√v + τ)
    const v1 = 0.99 * 1e-6 + 0.0025;
    const step1 = (0.1 * 0.05) / (Math.sqrt(v1) + 1e-3);
    const w1 = round(s, vec([1, 1]), [0.5, 0.5]);
    expect(w1[0].data[0]).toBeCloseTo(1 + step1, 6);
    expect(step1).toBeCloseTo(0.098, 3); // ≈ η·sign(Δ̄) early on: Adam's scale invariance
    // Round 2, Δ̄ = −0.5: m = 0.045 − 0.05 = −0.005; v = 0.99·v1 + 0.0025
    const v2 = 0.99 * v1 + 0.0025;
    const step2 = (0.1 * -0.005) / (Math.sqrt(v2) + 1e-3);
    const w2 = round(s, w1, [-0.5, -0.5]);
    expect(w2[0].data[1]).toBeCloseTo(w1[0].data[1] + step2, 6);
  });

  it('is invariant to the scale of the updates when τ is negligible (per-coordinate adaptivity), unlike FedAvg', () => {
    const options = { serverLr: 0.1, tau: 1e-9 };
    const small = round(createStrategy('fedadam', options), vec([0, 0]), [1e-4, -1e-4]);
    const large = round(createStrategy('fedadam', options), vec([0, 0]), [10, -10]);
    expect(small[0].data[0]).toBeCloseTo(large[0].data[0], 4);
    expect(small[0].data[0]).toBeCloseTo(0.1, 4); // one step of size η
  });

  it('damps small updates with the default τ = 1e-3 (Reddi et al. 2021), so noise does not move weights by η', () => {
    const small = round(createStrategy('fedadam'), vec([0, 0]), [1e-4, -1e-4]);
    const large = round(createStrategy('fedadam'), vec([0, 0]), [10, -10]);
    expect(Math.abs(small[0].data[0])).toBeLessThan(Math.abs(large[0].data[0]) / 5);
    expect(large[0].data[0]).toBeCloseTo(0.01, 3); // default η = 0.01
  });
});

describe('server-optimizer state', () => {
  const shapes = [[6, 4], [4]];
  const rounds = randomRounds(11, 4, 5, shapes);
  const start: ModelWeights = shapes.map((shape, t) => ({ name: `t${t}`, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.1) }));

  for (const name of ['fedavgm', 'fedadam'] as const) {
    it(`${name}: save → load in a new instance continues bit-identically`, () => {
      const uninterrupted = createStrategy(name);
      let w = start;
      const trace: ModelWeights[] = [];
      for (const updates of rounds) {
        w = runRound(uninterrupted, w, updates);
        trace.push(w);
      }

      const first = createStrategy(name);
      let resumed = start;
      resumed = runRound(first, resumed, rounds[0]);
      resumed = runRound(first, resumed, rounds[1]);
      const saved = first.saveState();
      expect(saved).toBeInstanceOf(Uint8Array);
      // As it comes back from SQLite: a Buffer at an arbitrary offset into a larger allocation.
      const stored = Buffer.alloc(saved!.length + 5);
      stored.set(saved!, 3);
      const restarted = createStrategy(name);
      restarted.loadState(stored.subarray(3, 3 + saved!.length));
      expect(restarted.saveState()).toEqual(saved);
      resumed = runRound(restarted, resumed, rounds[2]);
      resumed = runRound(restarted, resumed, rounds[3]);
      for (let t = 0; t < shapes.length; t++) expect(resumed[t].data).toEqual(trace[3][t].data);

      // Without the state the continuation differs: the test would notice a lost state.
      let fresh = trace[1];
      const amnesiac = createStrategy(name);
      fresh = runRound(amnesiac, fresh, rounds[2]);
      fresh = runRound(amnesiac, fresh, rounds[3]);
      expect(fresh[0].data).not.toEqual(trace[3][0].data);
    });

    it(`${name}: loadState(null) resets; restoring the pre-round bytes abandons a finished round`, () => {
      const s = createStrategy(name);
      const w1 = runRound(s, start, rounds[0]);
      const beforeRound2 = s.saveState();
      const w2 = runRound(s, w1, rounds[1]);
      s.loadState(beforeRound2); // round 2 failed evaluation: roll the optimizer back
      const again = runRound(s, w1, rounds[1]);
      expect(again[0].data).toEqual(w2[0].data);
      s.loadState(null);
      expect(s.saveState()).toBeNull();
      const fromScratch = runRound(s, start, rounds[0]);
      expect(fromScratch[0].data).toEqual(w1[0].data);
    });

    it(`${name}: refuses stale aggregations, foreign or corrupt state, and a changed model`, () => {
      const s = createStrategy(name);
      const a = s.begin(start);
      const b = s.begin(start);
      for (const u of rounds[0]) {
        a.add(u);
        b.add(u);
      }
      a.finish();
      expect(codeOf(() => b.finish())).toBe('HUB_ERR_AGG_STALE');
      const c = s.begin(start);
      c.add(rounds[0][0]);
      s.loadState(s.saveState());
      expect(codeOf(() => c.finish())).toBe('HUB_ERR_AGG_STALE');

      const good = s.saveState()!;
      const other = createStrategy(name === 'fedavgm' ? 'fedadam' : 'fedavgm');
      expect(codeOf(() => other.loadState(good))).toBe('HUB_ERR_STRATEGY_STATE');
      expect(codeOf(() => s.loadState(good.subarray(0, good.length - 8)))).toBe('HUB_ERR_STRATEGY_STATE');
      expect(codeOf(() => s.loadState(new Uint8Array(3)))).toBe('HUB_ERR_STRATEGY_STATE');
      const wrongMagic = good.slice();
      wrongMagic[0] = 0;
      expect(codeOf(() => s.loadState(wrongMagic))).toBe('HUB_ERR_STRATEGY_STATE');
      const nan = good.slice();
      new DataView(nan.buffer).setFloat64(nan.length - 8, Number.NaN, true);
      expect(codeOf(() => s.loadState(nan))).toBe('HUB_ERR_STRATEGY_STATE');
      s.loadState(good); // failed loads above left nothing half-applied; the good one still works
      expect(codeOf(() => s.begin(vec([1, 2, 3])))).toBe('HUB_ERR_STRATEGY_STATE');
    });
  }

  it('stateless strategies save null and ignore state', () => {
    for (const name of ['fedavg', 'fedprox', 'fedmedian', 'fedtrimmedavg', 'krum'] as const) {
      const s = createStrategy(name);
      expect(s.saveState()).toBeNull();
      s.loadState(null);
    }
  });
});
