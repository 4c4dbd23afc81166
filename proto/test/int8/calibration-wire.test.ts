import { describe, expect, it } from 'vitest';
import {
  CalibrationReport, MAX_CALIBRATION_BINS, ProtoError, calibrationStatsFromWire, calibrationStatsToWire, checkHistogram,
  collectCalibrationStats, floatModelFromTopology, type CalibrationReportProps, type TensorHistogram, type TensorStatsProps,
} from '../../src/index.js';
import { loadDigits } from '../helpers/mnist-digits.js';
import { glorotWeightsFor } from '../helpers/seeded-weights.js';
import { MNIST_2NN } from '../mcu/fixtures.js';

const model = floatModelFromTopology(MNIST_2NN, glorotWeightsFor(MNIST_2NN, 5));
const stats = collectCalibrationStats(model, loadDigits(2));

/** Through real protobuf bytes, as the hub receives it. */
function overTheWire(report: CalibrationReportProps): CalibrationReportProps {
  return CalibrationReport.decode(CalibrationReport.encode(CalibrationReport.create(report)).finish());
}

function reportWith(patch: Partial<TensorStatsProps>, exampleCount = stats.exampleCount): CalibrationReportProps {
  const tensors = calibrationStatsToWire(stats);
  tensors[1] = { ...tensors[1], ...patch };
  return { jobId: 'job', commandId: 'cmd', versionId: 'v', exampleCount, tensors };
}

/** The reason calibrationStatsFromWire gives (it must be PROTO_ERR_BAD_CALIBRATION). */
function refusal(report: CalibrationReportProps): string {
  try {
    calibrationStatsFromWire(report);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtoError);
    expect((error as ProtoError).code).toBe('PROTO_ERR_BAD_CALIBRATION');
    return (error as ProtoError).message;
  }
  return 'accepted';
}

describe('calibration statistics on the wire', () => {
  it('round-trips through CalibrationReport bytes unchanged (min/max are float32 values)', () => {
    const report = overTheWire({ jobId: 'job', exampleCount: stats.exampleCount, tensors: calibrationStatsToWire(stats) });
    expect(calibrationStatsFromWire(report)).toEqual(stats);
  });

  it('round-trips a device with no examples', () => {
    const empty = collectCalibrationStats(model, []);
    expect(calibrationStatsFromWire(overTheWire({ exampleCount: 0, tensors: calibrationStatsToWire(empty) }))).toEqual(empty);
  });

  it('refuses to send min/max that float32 would round', () => {
    const t = stats.tensors[1];
    const odd = { ...stats, tensors: [{ ...t, min: t.min + 1e-12 }] };
    expect(() => calibrationStatsToWire(odd)).toThrow(/float32/);
  });

  const t = calibrationStatsToWire(stats)[1];
  const n = t.counts!.length;
  const hostile: Array<[string, CalibrationReportProps, RegExp]> = [
    ['NaN min', reportWith({ min: Number.NaN }), /finite/],
    ['infinite max', reportWith({ max: Infinity }), /finite/],
    ['min > max', reportWith({ min: t.max! + 1, max: t.max }), /min .* > max/],
    ['too many bins', reportWith({ counts: new Array<number>(MAX_CALIBRATION_BINS + 1).fill(1), count: MAX_CALIBRATION_BINS + 1 }), /bins \(1 to 65536\)/],
    ['counts not summing to count', reportWith({ count: t.count! + stats.exampleCount }), /sum to/],
    ['a negative bin count', reportWith({ counts: [...t.counts!.slice(0, -1), -1] }), /bin \d+ count -1/],
    ['a fractional bin count', reportWith({ counts: [...t.counts!.slice(0, -1), 0.5] }), /bin \d+ count 0.5/],
    ['an unsafe-integer count (uint64 past 2^53)', overTheWire(reportWith({ count: 2 ** 60 })), /count .* not a .*safe integer/],
    ['an unsafe-integer bin count', overTheWire(reportWith({ counts: [2 ** 60, ...t.counts!.slice(1)] })), /bin 0 count .* safe integer/],
    ['an unsafe example_count', overTheWire(reportWith({}, 2 ** 60)), /example_count .* safe integer/],
    ['bin_width_log2 below −64', reportWith({ binWidthLog2: -65 }), /bin_width_log2 -65 is outside/],
    ['bin_width_log2 above 128', reportWith({ binWidthLog2: 129 }), /bin_width_log2 129 is outside/],
    ['bins starting past min', reportWith({ firstBin: t.firstBin! + 1 }), /do not cover exactly/],
    ['bins ending before max', reportWith({ counts: t.counts!.slice(0, -1), count: t.count! - t.counts![n - 1] }), /do not cover exactly/],
    ['a wrong width for the bins', reportWith({ binWidthLog2: t.binWidthLog2! + 1 }), /do not cover exactly/],
    ['an unsafe first_bin', reportWith({ firstBin: 2 ** 60 }), /first_bin .* safe integer/],
    ['an empty bin at min', reportWith({ counts: [0, ...t.counts!.slice(1)], count: t.count! - t.counts![0] }), /bins holding min and max are empty/],
    ['an empty histogram with bins', reportWith({ count: 0, counts: [0], min: 0, max: 0, firstBin: 0, binWidthLog2: 0 }), /empty histogram/],
    ['no examples but values', reportWith({}, 0), /multiple of example_count 0/],
    ['a count that is not a multiple of example_count', reportWith({}, stats.exampleCount + 1), /multiple of example_count/],
    ['an empty name', reportWith({ name: '' }), /name must have/],
    ['a 257-character name', reportWith({ name: 'x'.repeat(257) }), /name must have/],
    ['a name with control characters', reportWith({ name: 'dense\u0000' }), /control characters/],
    ['no tensors', { exampleCount: 1, tensors: [] }, /no tensors/],
  ];
  for (const [label, report, reason] of hostile) {
    it(`refuses ${label} with PROTO_ERR_BAD_CALIBRATION and a reason`, () => {
      expect(refusal(report)).toMatch(reason);
    });
  }

  it('checks in-process histograms (a hub merge) the same way: unsafe first bin, bad count', () => {
    const unsafe: TensorHistogram = { name: 't', min: 2 ** 60, max: 2 ** 60, count: 1, binWidthLog2: 0, firstBin: 2 ** 60, counts: [1] };
    expect(() => checkHistogram(unsafe)).toThrow(/first_bin .* not a safe integer/);
    const fractional: TensorHistogram = { name: 't', min: 0, max: 0, count: 1.5, binWidthLog2: 0, firstBin: 0, counts: [1] };
    expect(() => checkHistogram(fractional)).toThrow(/"t": count 1.5 is not a non-negative safe integer/);
  });

  it('the unmodified report of the cases above is accepted (each case breaks only its own field)', () => {
    expect(refusal(reportWith({}))).toBe('accepted');
  });
});
