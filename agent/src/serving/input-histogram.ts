/**
 * Histograms of input values (Telemetry.input_stats / input_baseline, proto/fleet.proto InputHistogram): every
 * value of every example counted in one of `bins` equal-width bins over [lo, hi); below lo counts in bin 0, at or
 * above hi in the last bin, so a shift out of the range still shows in the end bins. The hub compares the recent
 * window with the training baseline (PSI, KS: hub/docs/quality.md); both must use the same lo, hi and bins.
 */
import type { InputHistogramProps } from '@fedfleet/proto';

/** Default bin count of the input histograms. */
export const DEFAULT_INPUT_BINS = 16;
/** Range used when there is no training data to take it from: images scaled to [0, 1] (agent/src/data). */
export const DEFAULT_INPUT_RANGE: InputRange = Object.freeze({ lo: 0, hi: 1 });

export interface InputRange {
  lo: number;
  hi: number;
}

/** The bin of `value`: ⌊(value − lo) / width⌋, clamped to [0, bins − 1]. */
export function binOf(value: number, range: InputRange, bins: number): number {
  if (!(value > range.lo)) return 0; // also NaN, which a checked input never holds
  if (value >= range.hi) return bins - 1;
  return Math.min(bins - 1, Math.floor(((value - range.lo) / (range.hi - range.lo)) * bins));
}

/** [min, max] of the values, widened to [min, min + 1) when all are equal, so the bins have a width. */
export function rangeOf(values: Float32Array): InputRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return DEFAULT_INPUT_RANGE;
  return hi > lo ? { lo, hi } : { lo, hi: lo + 1 };
}

/** Adds the bins of `values` to `counts` (no allocation: the serving path calls it for every input). */
export function addToBins(values: Float32Array, range: InputRange, counts: Uint32Array | Float64Array): void {
  const bins = counts.length;
  for (let i = 0; i < values.length; i++) counts[binOf(values[i]!, range, bins)]! += 1;
}

/** The histogram of `examples` examples stored row-major in `values`, over `range`. */
export function histogramOf(values: Float32Array, examples: number, range: InputRange, bins = DEFAULT_INPUT_BINS): InputHistogramProps {
  const counts = new Float64Array(bins);
  addToBins(values, range, counts);
  return { lo: range.lo, hi: range.hi, counts: Array.from(counts), examples };
}

export interface InputWindowOptions {
  range: InputRange;
  /** Inputs the histogram covers: the most recent ones. Default 1,024 (the latency window's size). */
  windowSize?: number;
  bins?: number;
}

/**
 * The histogram of the last `windowSize` inputs. Memory is fixed: the bin counts of each input in a ring (so the one
 * leaving the window can be subtracted) and the running totals.
 */
export class InputWindow {
  readonly range: InputRange;
  readonly bins: number;
  private readonly size: number;
  private readonly rows: Uint32Array;
  private readonly totals: Float64Array;
  private recorded = 0;

  constructor(options: InputWindowOptions) {
    this.size = options.windowSize ?? 1024;
    this.bins = options.bins ?? DEFAULT_INPUT_BINS;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`windowSize must be a positive integer, got ${this.size}`);
    if (!Number.isInteger(this.bins) || this.bins < 1) throw new RangeError(`bins must be a positive integer, got ${this.bins}`);
    if (!(options.range.hi > options.range.lo)) throw new RangeError(`range [${options.range.lo}, ${options.range.hi}) is empty`);
    this.range = options.range;
    this.rows = new Uint32Array(this.size * this.bins);
    this.totals = new Float64Array(this.bins);
  }

  record(input: Float32Array): void {
    const row = this.rows.subarray((this.recorded % this.size) * this.bins, (this.recorded % this.size + 1) * this.bins);
    // The ring is full: the input leaving the window leaves the totals too.
    if (this.recorded >= this.size) for (let b = 0; b < this.bins; b++) this.totals[b]! -= row[b]!;
    row.fill(0);
    addToBins(input, this.range, row);
    for (let b = 0; b < this.bins; b++) this.totals[b]! += row[b]!;
    this.recorded += 1;
  }

  /** The histogram of the window; undefined before the first input. */
  snapshot(): InputHistogramProps | undefined {
    if (this.recorded === 0) return undefined;
    return { lo: this.range.lo, hi: this.range.hi, counts: Array.from(this.totals), examples: Math.min(this.recorded, this.size) };
  }
}
