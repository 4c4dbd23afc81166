// Power-of-two aligned histograms of one tensor's values (the wire's TensorStats): bin i covers
// [i·2^w, (i+1)·2^w). Bins of width 2^(w+1) are unions of two bins of width 2^w, so two histograms merge exactly
// by coarsening the finer one and summing aligned bins, and the width is a pure function of [min, max] and the bin
// budget — a merge of device histograms equals, bin for bin, the histogram of the union of their data.
// Bin indices are computed with exact float arithmetic only: v·2^−w is exact (a power-of-two scaling of a
// float32), and floor(floor(v·2^−w) / 2^k) = floor(v·2^−(w+k)).
import { ProtoError } from '../errors.js';

/** Statistics of one tensor: exact min, max and count, and the histogram (see the file header). */
export interface TensorHistogram {
  name: string;
  /** Exact smallest and largest value seen; both 0 when count is 0. */
  min: number;
  max: number;
  /** Values seen (examples × tensor size). */
  count: number;
  /** w: every bin is 2^w wide. */
  binWidthLog2: number;
  /** Index of counts[0]: floor(min / 2^w). The last bin, firstBin + counts.length − 1, is floor(max / 2^w). */
  firstBin: number;
  /** Values per bin; empty when count is 0. */
  counts: number[];
}

/** Bins per tensor when a caller asks for none (CalibrateTask.histogram_bins = 0). */
export const DEFAULT_CALIBRATION_BINS = 2048;
/** Bounds of the bin budget; 2 bins always hold any finite float32 range at w = MAX_BIN_WIDTH_LOG2. */
export const MIN_CALIBRATION_BINS = 2;
export const MAX_CALIBRATION_BINS = 65_536;
/** Range of w: 2^−64 is finer than any useful activation step; 2^128 holds every finite float32 in 2 bins. */
export const MIN_BIN_WIDTH_LOG2 = -64;
export const MAX_BIN_WIDTH_LOG2 = 128;

function bad(detail: string): ProtoError {
  return new ProtoError('PROTO_ERR_BAD_CALIBRATION', detail);
}

/** The bin budget: undefined or 0 → DEFAULT_CALIBRATION_BINS, else an integer in [MIN, MAX]_CALIBRATION_BINS. */
export function calibrationBins(bins?: number): number {
  if (bins === undefined || bins === 0) return DEFAULT_CALIBRATION_BINS;
  if (!Number.isInteger(bins) || bins < MIN_CALIBRATION_BINS || bins > MAX_CALIBRATION_BINS) {
    throw bad(`bins must be an integer in [${MIN_CALIBRATION_BINS}, ${MAX_CALIBRATION_BINS}], got ${bins}`);
  }
  return bins;
}

/** floor(v / 2^w), exact; normalises −0 to 0. */
export function binIndex(v: number, widthLog2: number): number {
  return Math.floor(v * 2 ** -widthLog2) + 0;
}

function fits(min: number, max: number, bins: number, widthLog2: number): boolean {
  const lo = binIndex(min, widthLog2);
  const hi = binIndex(max, widthLog2);
  // Indices travel as sint64 and are added in doubles: keep them safe integers.
  return hi - lo < bins && lo >= -Number.MAX_SAFE_INTEGER && hi <= Number.MAX_SAFE_INTEGER;
}

/**
 * The width rule: the smallest w ≥ `from` in [MIN_BIN_WIDTH_LOG2, MAX_BIN_WIDTH_LOG2] such that [min, max] spans at
 * most `bins` bins. Monotone: a wider range never gets a smaller w, so the union of several ranges gets a w at least
 * as large as each part's (merging only ever coarsens).
 */
export function binWidthLog2For(min: number, max: number, bins: number, from = MIN_BIN_WIDTH_LOG2): number {
  for (let w = Math.max(from, MIN_BIN_WIDTH_LOG2); w <= MAX_BIN_WIDTH_LOG2; w++) {
    if (fits(min, max, bins, w)) return w;
  }
  throw bad(`range [${min}, ${max}] is outside what ${bins} bins of width at most 2^${MAX_BIN_WIDTH_LOG2} can hold`);
}

/** The histogram of no values. */
export function emptyHistogram(name: string): TensorHistogram {
  return { name, min: 0, max: 0, count: 0, binWidthLog2: 0, firstBin: 0, counts: [] };
}

/**
 * Checks everything a histogram promises (a device may send anything): finite min ≤ max, integer w in range, bins
 * within MAX_CALIBRATION_BINS that cover exactly [min, max] (first and last bin hold min and max, so both are
 * non-empty), non-negative safe-integer counts that sum to `count`; an empty histogram is the canonical one.
 * @throws ProtoError PROTO_ERR_BAD_CALIBRATION naming the tensor and the reason.
 */
export function checkHistogram(h: TensorHistogram): void {
  const fail = (reason: string): never => {
    throw bad(`tensor ${JSON.stringify(h.name)}: ${reason}`);
  };
  if (!Number.isSafeInteger(h.count) || h.count < 0) fail(`count ${h.count} is not a non-negative safe integer`);
  if (h.count === 0) {
    if (h.counts.length !== 0 || h.min !== 0 || h.max !== 0 || h.binWidthLog2 !== 0 || h.firstBin !== 0) fail('an empty histogram must have no bins and min, max, w, firstBin 0');
    return;
  }
  if (!Number.isFinite(h.min) || !Number.isFinite(h.max)) fail(`min ${h.min} and max ${h.max} must be finite`);
  if (h.min > h.max) fail(`min ${h.min} > max ${h.max}`);
  if (!Number.isInteger(h.binWidthLog2) || h.binWidthLog2 < MIN_BIN_WIDTH_LOG2 || h.binWidthLog2 > MAX_BIN_WIDTH_LOG2) {
    fail(`bin_width_log2 ${h.binWidthLog2} is outside [${MIN_BIN_WIDTH_LOG2}, ${MAX_BIN_WIDTH_LOG2}]`);
  }
  const n = h.counts.length;
  if (n === 0 || n > MAX_CALIBRATION_BINS) fail(`${n} bins (1 to ${MAX_CALIBRATION_BINS})`);
  if (!Number.isSafeInteger(h.firstBin) || !Number.isSafeInteger(h.firstBin + n - 1)) fail(`first_bin ${h.firstBin} is not a safe integer`);
  const lo = binIndex(h.min, h.binWidthLog2);
  const hi = binIndex(h.max, h.binWidthLog2);
  if (lo !== h.firstBin || hi !== h.firstBin + n - 1) {
    fail(`bins [${h.firstBin}, ${h.firstBin + n - 1}] of width 2^${h.binWidthLog2} do not cover exactly [${h.min}, ${h.max}] (bins [${lo}, ${hi}])`);
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const c = h.counts[i];
    if (!Number.isSafeInteger(c) || c < 0) fail(`bin ${i} count ${c} is not a non-negative safe integer`);
    sum += c;
  }
  if (!Number.isSafeInteger(sum) || sum !== h.count) fail(`bin counts sum to ${sum}, count is ${h.count}`);
  if (h.counts[0] === 0 || h.counts[n - 1] === 0) fail('the bins holding min and max are empty');
}

/**
 * Merges histograms of the same tensor: min/max/count exact, width by the rule for the union's range (never finer
 * than any part's), then every part coarsened and summed bin by bin. Parts are checked first.
 */
export function mergeHistograms(name: string, parts: readonly TensorHistogram[], bins: number): TensorHistogram {
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  let widthLog2 = MIN_BIN_WIDTH_LOG2;
  for (const part of parts) {
    checkHistogram(part);
    if (part.count === 0) continue;
    min = Math.min(min, part.min);
    max = Math.max(max, part.max);
    count += part.count;
    widthLog2 = Math.max(widthLog2, part.binWidthLog2);
  }
  if (count === 0) return emptyHistogram(name);
  if (!Number.isSafeInteger(count)) throw bad(`tensor ${JSON.stringify(name)}: merged count ${count} is not a safe integer`);
  // A part that used a smaller budget than `bins` may be coarser than the rule; it can't be refined.
  widthLog2 = binWidthLog2For(min, max, bins, widthLog2);
  const firstBin = binIndex(min, widthLog2);
  const counts = new Float64Array(binIndex(max, widthLog2) - firstBin + 1);
  for (const part of parts) {
    const factor = 2 ** (widthLog2 - part.binWidthLog2);
    for (let j = 0; j < part.counts.length; j++) {
      counts[Math.floor((part.firstBin + j) / factor) - firstBin] += part.counts[j];
    }
  }
  return { name, min: min + 0, max: max + 0, count, binWidthLog2: widthLog2, firstBin, counts: Array.from(counts) };
}

/**
 * Nearest-rank percentile: the rank (1-based, in [1, count]) of the `percent`-th percentile of `count` sorted
 * values, ceil(percent / 100 × count). A relative tolerance of 1e−12 absorbs the rounding of decimal percentages
 * (99.9 % of 1000 is 999, not 1000).
 */
export function nearestRank(percent: number, count: number): number {
  return Math.min(count, Math.max(1, Math.ceil(((percent * count) / 100) * (1 - 1e-12))));
}

/** Index of the bin holding the value of 1-based `rank`. */
function binOfRank(h: TensorHistogram, rank: number): number {
  let seen = 0;
  for (let j = 0; j < h.counts.length; j++) {
    seen += h.counts[j];
    if (seen >= rank) return j;
  }
  return h.counts.length - 1;
}

/**
 * [lower, upper] clip of a histogram at `percentile` (in [50, 100]): lower is the lower edge of the bin holding the
 * (100 − p)-th percentile value (nearest rank), upper the upper edge of the bin holding the p-th, both clamped to
 * [min, max]. Each lies within one bin width of the exact percentile and on the side that keeps that value inside
 * the range. At 100 it is exactly [min, max]; an empty histogram gives [0, 0].
 */
export function percentileRange(h: TensorHistogram, percentile: number): [number, number] {
  if (h.count === 0) return [0, 0];
  const width = 2 ** h.binWidthLog2;
  const lo = binOfRank(h, nearestRank(100 - percentile, h.count));
  const hi = binOfRank(h, nearestRank(percentile, h.count));
  return [Math.max(h.min, (h.firstBin + lo) * width), Math.min(h.max, (h.firstBin + hi + 1) * width)];
}

/**
 * Accumulates one tensor's histogram over a stream of value arrays in one pass. The width grows with the range
 * seen so far, coarsening the bins already filled — exact, so the result equals binning everything at the final
 * width. Allocates only when the range grows.
 */
export class HistogramAccumulator {
  private min = Infinity;
  private max = -Infinity;
  private count = 0;
  private widthLog2 = MIN_BIN_WIDTH_LOG2;
  private firstBin = 0;
  private used = 0;
  private counts: Float64Array;

  constructor(readonly name: string, private readonly bins: number) {
    this.counts = new Float64Array(bins);
  }

  /** Adds values. @throws ProtoError PROTO_ERR_NON_FINITE on NaN or ±Infinity (a diverged model has no range). */
  add(values: Float32Array): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== v) throw new ProtoError('PROTO_ERR_NON_FINITE', `calibration tensor ${JSON.stringify(this.name)}`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (values.length === 0) return;
    if (lo === -Infinity || hi === Infinity) throw new ProtoError('PROTO_ERR_NON_FINITE', `calibration tensor ${JSON.stringify(this.name)}`);
    if (lo < this.min || hi > this.max) this.grow(Math.min(lo, this.min), Math.max(hi, this.max));
    const scale = 2 ** -this.widthLog2;
    const offset = this.firstBin;
    const counts = this.counts;
    for (let i = 0; i < values.length; i++) counts[Math.floor(values[i] * scale) - offset] += 1;
    this.count += values.length;
  }

  private grow(min: number, max: number): void {
    const widthLog2 = binWidthLog2For(min, max, this.bins, this.widthLog2);
    const firstBin = binIndex(min, widthLog2);
    if (widthLog2 !== this.widthLog2 || firstBin !== this.firstBin) {
      const next = new Float64Array(this.bins);
      const factor = 2 ** (widthLog2 - this.widthLog2);
      for (let j = 0; j < this.used; j++) {
        if (this.counts[j] !== 0) next[Math.floor((this.firstBin + j) / factor) - firstBin] += this.counts[j];
      }
      this.counts = next;
    }
    this.min = min;
    this.max = max;
    this.widthLog2 = widthLog2;
    this.firstBin = firstBin;
    this.used = binIndex(max, widthLog2) - firstBin + 1;
  }

  /** The histogram so far (a copy). */
  snapshot(): TensorHistogram {
    if (this.count === 0) return emptyHistogram(this.name);
    return {
      name: this.name, min: this.min + 0, max: this.max + 0, count: this.count, binWidthLog2: this.widthLog2,
      firstBin: this.firstBin, counts: Array.from(this.counts.subarray(0, this.used)),
    };
  }
}
