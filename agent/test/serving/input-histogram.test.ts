import { describe, expect, it } from 'vitest';
import {
  binOf, histogramOf, InferenceService, inferenceTelemetry, InputMonitor, InputWindow, rangeOf,
} from '../../src/serving/index.js';
import { fakeModel, fakeSource } from './fake-model.js';

const f32 = (...values: number[]) => Float32Array.from(values);

describe('input histograms', () => {
  it('bins edge values: below lo in bin 0, lo in bin 0, an inner edge in the upper bin, hi and above in the last', () => {
    const range = { lo: 0, hi: 1 };
    expect([-5, 0, 0.2499, 0.25, 0.5, 0.75, 0.9999, 1, 7].map((v) => binOf(v, range, 4))).toEqual([0, 0, 0, 1, 2, 3, 3, 3, 3]);
    expect(binOf(Number.NaN, range, 4)).toBe(0);
    // A value a rounding step below hi never lands past the last bin.
    expect(binOf(Math.fround(0.99999994), range, 16)).toBe(15);
    expect(histogramOf(f32(0, 0.1, 0.5, 1, 2, -1), 2, { lo: 0, hi: 1 }, 2)).toEqual({ lo: 0, hi: 1, counts: [3, 3], examples: 2 });
  });

  it('takes the range from the training data, widening a constant one', () => {
    expect(rangeOf(f32(0.5, -2, 3))).toEqual({ lo: -2, hi: 3 });
    expect(rangeOf(f32(4, 4))).toEqual({ lo: 4, hi: 5 });
  });

  it('covers only the last windowSize inputs, with fixed memory', () => {
    const window = new InputWindow({ range: { lo: 0, hi: 1 }, windowSize: 2, bins: 2 });
    expect(window.snapshot()).toBeUndefined();
    window.record(f32(0.1, 0.2));
    window.record(f32(0.9, 0.1));
    expect(window.snapshot()).toEqual({ lo: 0, hi: 1, counts: [3, 1], examples: 2 });
    window.record(f32(0.9, 0.9)); // the first input leaves the window
    expect(window.snapshot()).toEqual({ lo: 0, hi: 1, counts: [1, 3], examples: 2 });
    window.record(f32(0.6, 0.7));
    expect(window.snapshot()).toEqual({ lo: 0, hi: 1, counts: [0, 4], examples: 2 });
    expect(() => new InputWindow({ range: { lo: 1, hi: 1 } })).toThrow(RangeError);
  });

  it('reports the served window against the training baseline, on the same bins', () => {
    const train = { x: f32(0, 0.5, 1, 1), y: Uint8Array.from([0, 1]), count: 2, inputShape: [2], numClasses: 2 };
    let reads = 0;
    const monitor = new InputMonitor({ trainingData: () => (reads++, train), bins: 4 });
    expect(monitor.telemetry()).toEqual({ inputBaseline: { lo: 0, hi: 1, counts: [1, 0, 1, 2], examples: 2 } });
    monitor.record(f32(0.3, 0.3));
    expect(monitor.telemetry().inputStats).toEqual({ lo: 0, hi: 1, counts: [0, 2, 0, 0], examples: 1 });
    expect(reads).toBe(1);
    // Without training data: no baseline, the default [0, 1) range.
    const bare = new InputMonitor({ bins: 2 });
    bare.record(f32(0.7));
    expect(bare.telemetry()).toEqual({ inputStats: { lo: 0, hi: 1, counts: [0, 1], examples: 1 } });
  });

  it('counts every input the inference service answered, and the labels of the accuracy window', async () => {
    const service = new InferenceService(fakeSource(fakeModel('v1')), { inputs: { bins: 2 } });
    const a = await service.predict(f32(0.1, 0.2, 0.3, 0.9));
    await service.predict(f32(0.6, 0.7, 0.8, 0.9));
    await expect(service.predict(f32(0.1))).rejects.toThrow(); // refused: not counted
    service.feedback(a.requestId, 0); // it said 2
    expect(service.inputs.telemetry()).toEqual({ inputStats: { lo: 0, hi: 1, counts: [3, 5], examples: 2 } });
    expect(inferenceTelemetry(service.stats.snapshot())).toMatchObject({ localAccuracy: 0, localAccuracyExamples: 1 });
  });
});
