/**
 * Activation ranges for an int8 model, two ways (issue 9 item 2):
 * - dataset: central calibration statistics over the 8,000 training digits (what the hub computes from an uploaded
 *   data set);
 * - fleet: each of bench:fl's 100 IID devices computes statistics over its own 80 digits, sends them as a
 *   CalibrationReport (through the wire conversion, as the hub receives them), and the reports are merged.
 * The fleet's devices hold a partition of the same 8,000 digits, so at percentile 100 (exact min/max) both must
 * give the same ranges bit for bit; percentiles agree within a histogram bin.
 */
import {
  calibrationStatsFromWire, calibrationStatsToWire, collectCalibrationStats, mergeCalibrationStats, rangesFromStats,
  type CalibrationRanges, type CalibrationStats, type FloatModel,
} from '@fedfleet/proto';
import { mnistGlobal } from '@fedfleet/agent/ml';
import type { BenchOutput } from './bench-output.js';
import { fleetDataSources } from './fl-reference.js';
import { parseFlOptions, type FlBenchOptions } from './fl-options.js';
import { examplesOf } from './quant-models.js';

/** Percentile of the clipped comparison: near 100, where a percentile clip is used in practice. */
export const COMPARE_PERCENTILE = 99.99;

export interface CalibrationComparison {
  devices: number;
  examples: number;
  dataset: CalibrationRanges;
  fleet: CalibrationRanges;
  /** Fleet and dataset ranges equal exactly at percentile 100 (min/max). */
  identicalAtMax: boolean;
  /** Largest |fleet − dataset| over every range bound at COMPARE_PERCENTILE. */
  maxDiffAtPercentile: number;
}

function rangeBounds(r: CalibrationRanges): number[] {
  return [r.input, ...r.layers].flat();
}

function maxAbsDiff(a: CalibrationRanges, b: CalibrationRanges): number {
  const x = rangeBounds(a);
  const y = rangeBounds(b);
  if (x.length !== y.length) return Infinity;
  return x.reduce((max, v, i) => Math.max(max, Math.abs(v - y[i]!)), 0);
}

/** One device's statistics as the hub gets them: encoded to the wire TensorStats and decoded (validated) back. */
function throughWire(stats: CalibrationStats, device: number): CalibrationStats {
  return calibrationStatsFromWire({
    jobId: 'bench-quant', commandId: `calibrate-${device}`, versionId: 'bench-quant',
    exampleCount: stats.exampleCount, tensors: calibrationStatsToWire(stats),
  });
}

export function calibrateBothWays(model: FloatModel, out: BenchOutput, label: string): CalibrationComparison {
  const central = collectCalibrationStats(model, examplesOf(mnistGlobal().train));
  // bench:fl's fleet: 100 devices, IID partition, seed 1 (its defaults).
  const sources = fleetDataSources(parseFlOptions([]) as FlBenchOptions);
  const reports = sources.map((source, device) => {
    out.progress(`calibrating ${label} on devices`, device + 1, sources.length);
    return throughWire(collectCalibrationStats(model, examplesOf(source.train())), device);
  });
  out.endProgress();
  const merged = mergeCalibrationStats(reports);
  const dataset = rangesFromStats(central);
  const fleet = rangesFromStats(merged);
  return {
    devices: sources.length,
    examples: merged.exampleCount,
    dataset,
    fleet,
    identicalAtMax: maxAbsDiff(dataset, fleet) === 0,
    maxDiffAtPercentile: maxAbsDiff(
      rangesFromStats(central, { percentile: COMPARE_PERCENTILE }),
      rangesFromStats(merged, { percentile: COMPARE_PERCENTILE }),
    ),
  };
}
