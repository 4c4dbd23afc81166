// Calibration statistics on the wire (TensorStats in a CalibrationReport, fleet.proto) and back. The report comes
// from a device, so decoding trusts nothing: every number is checked before the hub merges it (DESIGN §9).
import { ProtoError } from '../errors.js';
import type { CalibrationReportProps, TensorStatsProps } from '../messages.js';
import { checkHistogram, type TensorHistogram } from './calibration-histogram.js';
import type { CalibrationStats } from './calibration-stats.js';

/** Longest tensor name accepted (Keras layer names are short identifiers). */
export const MAX_CALIBRATION_NAME_LENGTH = 256;

function bad(detail: string): ProtoError {
  return new ProtoError('PROTO_ERR_BAD_CALIBRATION', detail);
}

/**
 * TensorStats for a CalibrationReport (its example_count is `stats.exampleCount`). min and max travel as float32:
 * statistics of float32 tensors hold float32 values, anything else is refused rather than silently rounded.
 * @throws ProtoError PROTO_ERR_BAD_CALIBRATION for a malformed histogram.
 */
export function calibrationStatsToWire(stats: CalibrationStats): TensorStatsProps[] {
  return stats.tensors.map((t) => {
    checkHistogram(t);
    if (Math.fround(t.min) !== t.min || Math.fround(t.max) !== t.max) throw bad(`tensor ${JSON.stringify(t.name)}: min/max are not float32 values`);
    return { name: t.name, min: t.min, max: t.max, count: t.count, binWidthLog2: t.binWidthLog2, firstBin: t.firstBin, counts: [...t.counts] };
  });
}

/** uint64/sint64 fields arrive as numbers (configure-long.ts); values past 2^53 are not exact and are refused. */
function safeInteger(value: number | null | undefined, what: string): number {
  const n = value ?? 0;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw bad(`${what} ${String(n)} is not a safe integer`);
  return n;
}

function tensorName(value: string | null | undefined, index: number): string {
  const name = value ?? '';
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_CALIBRATION_NAME_LENGTH) {
    throw bad(`tensor ${index}: name must have 1 to ${MAX_CALIBRATION_NAME_LENGTH} characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) throw bad(`tensor ${index}: name has control characters`);
  return name;
}

function fromWireTensor(t: TensorStatsProps, index: number, exampleCount: number): TensorHistogram {
  const name = tensorName(t.name, index);
  const counts = t.counts ?? [];
  if (!Array.isArray(counts)) throw bad(`tensor ${JSON.stringify(name)}: counts is not a list`);
  const h: TensorHistogram = {
    name,
    min: t.min ?? 0,
    max: t.max ?? 0,
    count: safeInteger(t.count, `tensor ${JSON.stringify(name)}: count`),
    binWidthLog2: safeInteger(t.binWidthLog2, `tensor ${JSON.stringify(name)}: bin_width_log2`),
    firstBin: safeInteger(t.firstBin, `tensor ${JSON.stringify(name)}: first_bin`),
    counts,
  };
  checkHistogram(h);
  // Every example contributes the tensor's size in values: no examples, no values; some examples, a multiple.
  if (exampleCount === 0 ? h.count !== 0 : h.count === 0 || h.count % exampleCount !== 0) {
    throw bad(`tensor ${JSON.stringify(name)}: count ${h.count} is not a positive multiple of example_count ${exampleCount}`);
  }
  return { ...h, counts: [...counts] };
}

/**
 * Statistics from a device's CalibrationReport, validated: example_count and every count a safe non-negative
 * integer, finite min ≤ max, bin_width_log2 in [MIN_BIN_WIDTH_LOG2, MAX_BIN_WIDTH_LOG2], at most
 * MAX_CALIBRATION_BINS bins covering exactly [min, max] and summing to count, names of 1–256 printable characters.
 * Whether the tensors match the model is checkStatsForModel's job.
 * @throws ProtoError PROTO_ERR_BAD_CALIBRATION with the reason.
 */
export function calibrationStatsFromWire(report: CalibrationReportProps): CalibrationStats {
  const exampleCount = safeInteger(report.exampleCount, 'example_count');
  if (exampleCount < 0) throw bad(`example_count ${exampleCount} is negative`);
  const tensors = report.tensors ?? [];
  if (!Array.isArray(tensors) || tensors.length === 0) throw bad('the report has no tensors');
  return { exampleCount, tensors: tensors.map((t, i) => fromWireTensor(t, i, exampleCount)) };
}
