/**
 * The packed telemetry encoding (column-block.ts) round-trips exactly, metrics round-trip within their documented
 * precision, and the rollup tiers equal the raw samples they summarise (issue 11, item 1). Property tests over
 * random series: irregular and repeated timestamps, metrics that come and go, extreme magnitudes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColumnBlockWriter, decodeColumnBlock, type PredictionOrder } from '../../src/telemetry/column-block.js';
import { HOUR_TIER, MINUTE_TIER, RollupSeries, ROLLUP_FIELDS, ROLLUP_ORDERS, type RollupTier } from '../../src/telemetry/rollup-series.js';
import { scaleTelemetry, TELEMETRY_METRICS, unscale } from '../../src/telemetry/telemetry-metrics.js';
import type { TelemetryJson } from '../../src/fleet/telemetry-json.js';

const LIMIT = 2 ** 44;
const scaledValue = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -LIMIT, max: LIMIT }), fc.constant(NaN));

/** Rows with non-decreasing timestamps, as the history receives them. */
function rowsArbitrary(columns: number) {
  return fc.record({
    startMs: fc.integer({ min: 0, max: 2 ** 42 }),
    rows: fc.array(fc.record({ stepMs: fc.integer({ min: 0, max: 200_000 }), values: fc.array(scaledValue, { minLength: columns, maxLength: columns }) }), { maxLength: 300 }),
  });
}

describe('column blocks', () => {
  it('decode to exactly the rows appended, for any orders, gaps and missing values', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<PredictionOrder>(1, 2), { minLength: 1, maxLength: 24 }).chain((orders) => fc.tuple(fc.constant(orders), rowsArbitrary(orders.length))), ([orders, series]) => {
        const writer = ColumnBlockWriter.create(series.startMs, orders);
        let atMs = series.startMs;
        const expected = series.rows.map((row) => ({ atMs: (atMs += row.stepMs), values: Float64Array.from(row.values) }));
        for (const row of expected) writer.append(row.atMs, row.values);
        expect(decodeColumnBlock(writer.toBytes(), series.startMs, orders)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('a clone continues independently and bytes already written never change', () => {
    const writer = ColumnBlockWriter.create(1000, [1, 2]);
    writer.append(1000, Float64Array.of(5, 10));
    const before = writer.toBytes();
    const copy = writer.clone();
    copy.append(11_000, Float64Array.of(6, 20));
    expect(writer.toBytes()).toEqual(before);
    expect(copy.toBytes().subarray(0, before.length)).toEqual(before);
    expect(decodeColumnBlock(copy.toBytes(), 1000, [1, 2]).map((r) => [...r.values])).toEqual([[5, 10], [6, 20]]);
  });
});

describe('telemetry metrics', () => {
  it('round-trip within half a unit of their stored precision', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e12, noNaN: true }), (value) => {
        const telemetry = Object.fromEntries(TELEMETRY_METRICS.map((m) => [m.name, value])) as unknown as TelemetryJson;
        const scaled = scaleTelemetry(telemetry);
        TELEMETRY_METRICS.forEach((metric, i) => {
          // Beyond the documented range (|value × scale| ≤ 2^44) a value is not stored rather than stored wrong.
          if (Math.abs(Math.round(value * metric.scale)) > LIMIT) return expect(scaled[i]).toBeNaN();
          expect(Math.abs(unscale(metric, scaled[i]!) - value)).toBeLessThanOrEqual(0.5 / metric.scale + Math.abs(value) * 1e-15);
        });
      }),
    );
  });
});

/** Feeds a series through a rollup tier and decodes every block it wrote (finished ones and the open one). */
function rollUp(tier: RollupTier, samples: Array<{ atMs: number; values: Float64Array }>) {
  const series = new RollupSeries(tier);
  const blocks: Array<{ startMs: number; bytes: Uint8Array }> = [];
  for (const sample of samples) {
    const finished = series.add(sample.atMs, sample.values);
    if (finished) blocks.push({ startMs: finished.startMs, bytes: finished.toBytes() });
  }
  if (series.startMs !== undefined) blocks.push({ startMs: series.startMs, bytes: series.toBytes().bytes });
  return blocks.flatMap((block) => decodeColumnBlock(block.bytes, block.startMs, ROLLUP_ORDERS));
}

/** What a rollup must hold: per bucket and metric, min / max / sum / count of the raw samples in it. */
function expectedRollup(tier: RollupTier, samples: Array<{ atMs: number; values: Float64Array }>) {
  const buckets = new Map<number, Float64Array>();
  for (const sample of samples) {
    const bucketMs = Math.floor(sample.atMs / tier.bucketMs) * tier.bucketMs;
    const entry = buckets.get(bucketMs) ?? new Float64Array(ROLLUP_ORDERS.length).fill(NaN);
    buckets.set(bucketMs, entry);
    sample.values.forEach((value, m) => {
      if (Number.isNaN(value)) return;
      const inBucket = samples.filter((s) => Math.floor(s.atMs / tier.bucketMs) * tier.bucketMs === bucketMs).map((s) => s.values[m]!).filter((v) => !Number.isNaN(v));
      entry.set([Math.min(...inBucket), Math.max(...inBucket), inBucket.reduce((a, b) => a + b, 0), inBucket.length], m * ROLLUP_FIELDS);
    });
  }
  return [...buckets].map(([atMs, values]) => ({ atMs, values }));
}

describe('rollups', () => {
  const sampleSeries = fc
    .record({
      startMs: fc.integer({ min: 0, max: 2 ** 41 }),
      steps: fc.array(fc.record({ stepMs: fc.integer({ min: 0, max: 400_000 }), cpu: fc.option(fc.integer({ min: 0, max: 10_000 })), mem: fc.integer({ min: 0, max: 2 ** 33 }) }), { maxLength: 250 }),
    })
    .map(({ startMs, steps }) => {
      let atMs = startMs;
      return steps.map((step) => {
        const values = new Float64Array(TELEMETRY_METRICS.length).fill(NaN);
        values[0] = step.cpu ?? NaN;
        values[2] = step.mem;
        return { atMs: (atMs += step.stepMs), values };
      });
    });

  for (const tier of [MINUTE_TIER, HOUR_TIER]) {
    it(`${tier === MINUTE_TIER ? 'minute' : 'hour'} rollups equal min / max / sum / count of the raw samples in each bucket`, () => {
      fc.assert(fc.property(sampleSeries, (samples) => {
        expect(rollUp(tier, samples)).toEqual(expectedRollup(tier, samples));
      }), { numRuns: 100 });
    });
  }

  it('a series restored from its stored block continues as if never interrupted', () => {
    fc.assert(fc.property(sampleSeries, fc.nat(), (samples, cut) => {
      const split = samples.length === 0 ? 0 : cut % samples.length;
      const first = new RollupSeries(MINUTE_TIER);
      for (const s of samples.slice(0, split)) first.add(s.atMs, s.values);
      const resumed = first.startMs === undefined ? new RollupSeries(MINUTE_TIER) : RollupSeries.restore(MINUTE_TIER, first.startMs, first.toBytes().bytes);
      const whole = new RollupSeries(MINUTE_TIER);
      for (const s of samples.slice(0, split)) whole.add(s.atMs, s.values);
      for (const s of samples.slice(split)) {
        resumed.add(s.atMs, s.values);
        whole.add(s.atMs, s.values);
      }
      expect(resumed.toBytes()).toEqual(whole.toBytes());
    }), { numRuns: 100 });
  });
});
