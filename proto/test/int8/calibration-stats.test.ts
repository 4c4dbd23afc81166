import { describe, expect, it } from 'vitest';
import {
  MIN_BIN_WIDTH_LOG2, calibrateRanges, checkStatsForModel, collectCalibrationStats, floatForward, floatModelFromTopology,
  mergeCalibrationStats, nearestRank, rangesFromStats, type CalibrationStats, type FloatModel, type TensorHistogram,
} from '../../src/index.js';
import { loadDigits } from '../helpers/mnist-digits.js';
import { codeOf } from '../helpers/proto-error-code.js';
import { glorotWeightsFor } from '../helpers/seeded-weights.js';
import { TINY_CNN } from '../mcu/fixtures.js';

// A real model (the tiny CNN, seeded Glorot weights) on real digits, plus the same digits mapped to [−3, −1] so
// that two devices can hold data with disjoint input ranges. ReLU layers output many exact zeros.
const model = floatModelFromTopology(TINY_CNN, glorotWeightsFor(TINY_CNN, 3));
const digits = loadDigits(3);
const negated = digits.map((x) => x.map((v) => -1 - 2 * v));
const examples = [...digits, ...negated];

/** Every value of every tensor (input first, then each layer's output) over `inputs`. */
function allValues(m: FloatModel, inputs: readonly Float32Array[]): Float64Array[] {
  const parts: number[][][] = Array.from({ length: m.layers.length + 1 }, () => []);
  for (const x of inputs) {
    parts[0].push(Array.from(x));
    floatForward(m, x, (index, output) => parts[index + 1].push(Array.from(output)));
  }
  return parts.map((p) => Float64Array.from(p.flat()));
}

/** Asserts `h` is the histogram of `values` binned directly at its width, and that width is the rule's. */
function expectDirectBinning(h: TensorHistogram, values: Float64Array, bins: number): void {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  expect([h.min, h.max, h.count]).toEqual([min, max, values.length]);
  const width = 2 ** h.binWidthLog2;
  const counts = new Array<number>(h.counts.length).fill(0);
  for (const v of values) counts[Math.floor(v / width) - h.firstBin] += 1;
  expect(h.counts).toEqual(counts);
  expect(h.counts.length).toBeLessThanOrEqual(bins);
  // Smallest width: one step finer would need more than `bins` bins.
  if (h.binWidthLog2 > MIN_BIN_WIDTH_LOG2) {
    expect(Math.floor(max / (width / 2)) - Math.floor(min / (width / 2)) + 1).toBeGreaterThan(bins);
  }
}

/** `examples` split over devices by `device(i)`; a device may get none. */
function split(devices: number, device: (i: number) => number): Float32Array[][] {
  const out: Float32Array[][] = Array.from({ length: devices }, () => []);
  examples.forEach((x, i) => out[device(i)].push(x));
  return out;
}

const partitions: Array<[string, Float32Array[][]]> = [
  ['contiguous thirds', split(3, (i) => Math.floor((3 * i) / examples.length))],
  ['round robin over 4 plus a device with 0 examples', split(5, (i) => i % 4)],
  ['disjoint input ranges ([0, 1] and [−3, −1])', split(2, (i) => (i < digits.length ? 0 : 1))],
  ['one example per device', split(examples.length, (i) => i)],
];

describe('calibration statistics: collect', () => {
  const values = allValues(model, examples);

  for (const bins of [2048, 16]) {
    it(`bins ${bins}: every tensor is the direct histogram of its values at the smallest width that fits`, () => {
      const stats = collectCalibrationStats(model, examples, { bins });
      expect(stats.exampleCount).toBe(examples.length);
      expect(stats.tensors.map((t) => t.name)).toEqual(['input', ...model.layers.map((l) => l.name)]);
      stats.tensors.forEach((t, i) => expectDirectBinning(t, values[i], bins));
      checkStatsForModel(stats, model);
    });
  }

  it('reads a one-shot iterable in one pass', () => {
    function* once(): Generator<Float32Array> {
      yield* examples;
    }
    expect(collectCalibrationStats(model, once())).toEqual(collectCalibrationStats(model, examples));
  });

  it('percentile 100 gives exactly the min/max ranges of calibrateRanges', () => {
    expect(rangesFromStats(collectCalibrationStats(model, examples))).toEqual(calibrateRanges(model, examples));
    expect(rangesFromStats(collectCalibrationStats(model, []))).toEqual(calibrateRanges(model, []));
  });

  it('refuses NaN or infinite activations and bin budgets out of bounds', () => {
    const nan = new Float32Array(784).fill(0.5);
    nan[3] = Number.NaN;
    expect(codeOf(() => collectCalibrationStats(model, [nan]))).toBe('PROTO_ERR_NON_FINITE');
    expect(codeOf(() => collectCalibrationStats(model, [new Float32Array(784).fill(Infinity)]))).toBe('PROTO_ERR_NON_FINITE');
    for (const bins of [1, 65_537, 2.5, -4]) expect(codeOf(() => collectCalibrationStats(model, [], { bins }))).toBe('PROTO_ERR_BAD_CALIBRATION');
  });
});

describe('calibration statistics: federated merge equals central collection on the union', () => {
  for (const bins of [2048, 16]) {
    const central = collectCalibrationStats(model, examples, { bins });
    for (const [label, devices] of partitions) {
      it(`bins ${bins}, ${label}: identical width, first bin, counts, min, max and count`, () => {
        const reports = devices.map((data) => collectCalibrationStats(model, data, { bins }));
        expect(mergeCalibrationStats(reports, { bins })).toEqual(central);
        expect(mergeCalibrationStats([...reports].reverse(), { bins })).toEqual(central);
        // Merging merges (a hub merging as reports arrive) changes nothing either.
        const half = Math.ceil(reports.length / 2);
        const staged = [mergeCalibrationStats(reports.slice(0, half), { bins }), mergeCalibrationStats(reports.slice(half), { bins })];
        expect(mergeCalibrationStats(staged, { bins })).toEqual(central);
      });
    }
  }

  it('bins exact zeros (ReLU outputs, −0 inputs) in bin 0 at every width, whichever device saw them', () => {
    // One ReLU unit summing its inputs: device A's inputs are ≤ 0, so it only ever outputs exact zeros (a
    // constant tensor at the finest width); device B spans a wide range and forces a coarse width.
    const relu: FloatModel = { inputShape: [2], layers: [{ kind: 'dense', name: 'relu', kernel: new Float32Array([1, 1]), bias: new Float32Array([0]), units: 1, activation: 'relu' }] };
    const a = [new Float32Array([-0, -0]), new Float32Array([-1, -2]), new Float32Array([0, -0.5])];
    const b = [new Float32Array([3, 500]), new Float32Array([0.25, 0]), new Float32Array([-7, 1])];
    const statsA = collectCalibrationStats(relu, a, { bins: 64 });
    expect(statsA.tensors[1]).toEqual({ name: 'relu', min: 0, max: 0, count: 3, binWidthLog2: MIN_BIN_WIDTH_LOG2, firstBin: 0, counts: [3] });
    // −0 is 0: never a −0 min, max or first bin, whichever of 0 and −0 a device saw first.
    const c = [new Float32Array([-0, 0.5])];
    const statsC = collectCalibrationStats(relu, c, { bins: 64 });
    for (const t of [...statsA.tensors, ...statsC.tensors]) expect([t.min, t.max, t.firstBin].some((v) => Object.is(v, -0))).toBe(false);
    const union = collectCalibrationStats(relu, [...a, ...c, ...b], { bins: 64 });
    expect(mergeCalibrationStats([statsA, statsC, collectCalibrationStats(relu, b, { bins: 64 })], { bins: 64 })).toEqual(union);
    // 503 needs width 2^3 in 64 bins; the four zeros, 0.25 and 0.5 share bin 0 = [0, 8).
    expect(union.tensors[1]).toMatchObject({ binWidthLog2: 3, firstBin: 0, count: 7 });
    expect(union.tensors[1].counts[0]).toBe(6);
  });

  it('refuses statistics that do not belong together, or nothing', () => {
    const stats = collectCalibrationStats(model, digits.slice(0, 2));
    const renamed: CalibrationStats = { ...stats, tensors: stats.tensors.map((t, i) => (i === 2 ? { ...t, name: 'other' } : t)) };
    expect(codeOf(() => mergeCalibrationStats([stats, renamed]))).toBe('PROTO_ERR_BAD_CALIBRATION');
    expect(codeOf(() => mergeCalibrationStats([stats, { ...stats, tensors: stats.tensors.slice(1) }]))).toBe('PROTO_ERR_BAD_CALIBRATION');
    expect(codeOf(() => mergeCalibrationStats([]))).toBe('PROTO_ERR_BAD_CALIBRATION');
    const broken: CalibrationStats = { ...stats, tensors: stats.tensors.map((t, i) => (i === 1 ? { ...t, count: t.count + 1 } : t)) };
    expect(codeOf(() => mergeCalibrationStats([stats, broken]))).toBe('PROTO_ERR_BAD_CALIBRATION');
  });

  it('checkStatsForModel refuses a report whose names or value counts do not fit the model', () => {
    const stats = collectCalibrationStats(model, digits.slice(0, 2));
    checkStatsForModel(stats, model);
    expect(codeOf(() => checkStatsForModel({ ...stats, exampleCount: 3 }, model))).toBe('PROTO_ERR_BAD_CALIBRATION');
    expect(codeOf(() => checkStatsForModel({ ...stats, tensors: stats.tensors.slice(0, -1) }, model))).toBe('PROTO_ERR_BAD_CALIBRATION');
    const renamed = { ...stats, tensors: stats.tensors.map((t, i) => (i === 1 ? { ...t, name: 'conv9' } : t)) };
    expect(codeOf(() => checkStatsForModel(renamed, model))).toBe('PROTO_ERR_BAD_CALIBRATION');
  });
});

describe('calibration statistics: percentile clip', () => {
  const values = allValues(model, examples).map((v) => v.sort());
  const merged = mergeCalibrationStats(partitions[1][1].map((data) => collectCalibrationStats(model, data)));

  for (const percentile of [99.99, 99.9, 99, 90, 50]) {
    it(`p ${percentile}: each bound within one bin of the exact nearest-rank percentile, on the side that keeps it`, () => {
      const ranges = rangesFromStats(merged, { percentile });
      [ranges.input, ...ranges.layers].forEach(([lower, upper], i) => {
        const sorted = values[i];
        const exactLower = sorted[nearestRank(100 - percentile, sorted.length) - 1];
        const exactUpper = sorted[nearestRank(percentile, sorted.length) - 1];
        const bin = 2 ** merged.tensors[i].binWidthLog2;
        expect(lower).toBeLessThanOrEqual(exactLower);
        expect(lower).toBeGreaterThanOrEqual(exactLower - bin);
        expect(upper).toBeGreaterThanOrEqual(exactUpper);
        expect(upper).toBeLessThanOrEqual(exactUpper + bin);
      });
    });
  }

  it('clips an outlier away: 1 value in 10,000 at 1000, the rest in [0, 1)', () => {
    const data = Float32Array.from({ length: 10_000 }, (_, i) => (i === 0 ? 1000 : (i % 1000) / 1000));
    const identity: FloatModel = { inputShape: [10_000], layers: [] };
    const stats = collectCalibrationStats(identity, [data]);
    expect(rangesFromStats(stats).input).toEqual([0, 1000]);
    const [lower, upper] = rangesFromStats(stats, { percentile: 99.9 }).input;
    expect(lower).toBe(0);
    expect(upper).toBeGreaterThanOrEqual(0.999);
    expect(upper).toBeLessThanOrEqual(0.999 + 2 ** stats.tensors[0].binWidthLog2);
  });

  it('nearest rank of decimal percentiles is exact', () => {
    expect(nearestRank(99.9, 1000)).toBe(999);
    expect(nearestRank(100 - 99.8, 1000)).toBe(2); // 100 − 99.8 is 0.20000000000000284 in binary
    expect(nearestRank(0, 5)).toBe(1);
    expect(nearestRank(100, 5)).toBe(5);
  });

  it('refuses a percentile outside [50, 100]', () => {
    for (const percentile of [49.9, 100.1, Number.NaN]) expect(codeOf(() => rangesFromStats(merged, { percentile }))).toBe('PROTO_ERR_BAD_CALIBRATION');
  });
});
