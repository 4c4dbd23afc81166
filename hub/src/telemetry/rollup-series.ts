/**
 * One device's minute or hour rollups, maintained incrementally as samples arrive: the open bucket accumulates
 * min / max / sum / count per metric over the scaled values the raw tier stores, so a rollup equals exactly the raw
 * samples it summarises (mean = sum / count). Finished buckets are appended to a packed block (column-block.ts);
 * the open one is written after them on every persist and becomes finished when a later bucket starts.
 */
import { BLOCK_TARGET_BYTES, ColumnBlockWriter, decodeColumnBlock, type BlockRow, type PredictionOrder } from './column-block.js';
import { TELEMETRY_METRICS } from './telemetry-metrics.js';

export interface RollupTier {
  /** 1 = minute, 2 = hour (the `tier` column; 0 is raw). */
  tier: 1 | 2;
  bucketMs: number;
  /** A block holds buckets of at most this span (an hour of minutes, a day of hours), or BLOCK_TARGET_BYTES. */
  blockSpanMs: number;
}

export const MINUTE_TIER: RollupTier = { tier: 1, bucketMs: 60_000, blockSpanMs: 3_600_000 };
export const HOUR_TIER: RollupTier = { tier: 2, bucketMs: 3_600_000, blockSpanMs: 86_400_000 };

/** Columns per metric in a rollup row: min, max, sum, count (scaled integers). */
export const ROLLUP_FIELDS = 4;

export const ROLLUP_ORDERS: readonly PredictionOrder[] = TELEMETRY_METRICS.flatMap(
  (metric) => [metric.order, metric.order, metric.order, 1] as PredictionOrder[],
);

export interface RollupEntry {
  bucketMs: number;
  /** ROLLUP_FIELDS columns per metric; NaN where the metric had no sample in the bucket. */
  values: Float64Array;
}

/** Folds one raw row (scaled values, NaN = absent) into a rollup row. */
export function accumulate(entry: Float64Array, scaled: Float64Array): void {
  for (let m = 0; m < scaled.length; m++) {
    const value = scaled[m]!;
    if (Number.isNaN(value)) continue;
    const base = m * ROLLUP_FIELDS;
    if (Number.isNaN(entry[base + 3]!)) {
      entry[base] = value;
      entry[base + 1] = value;
      entry[base + 2] = value;
      entry[base + 3] = 1;
    } else {
      entry[base] = Math.min(entry[base]!, value);
      entry[base + 1] = Math.max(entry[base + 1]!, value);
      entry[base + 2]! += value;
      entry[base + 3]! += 1;
    }
  }
}

/**
 * A rollup row as spreads from each metric's minimum: min, max − min, sum − count × min, count. Max and sum move with
 * min, so their spreads are small and pack in fewer bits (block format 3, block-format.ts). Undefined when a spread
 * is not a safe integer, so the caller keeps plain values.
 */
export function toRollupSpreads(values: Float64Array): Float64Array | undefined {
  const spreads = values.slice();
  for (let base = 0; base < values.length; base += ROLLUP_FIELDS) {
    const [min, max, sum, count] = [values[base]!, values[base + 1]!, values[base + 2]!, values[base + 3]!];
    spreads[base + 1] = max - min;
    spreads[base + 2] = sum - count * min;
    if (Number.isNaN(count)) continue;
    if (![count * min, spreads[base + 1]!, spreads[base + 2]!].every(Number.isSafeInteger)) return undefined;
  }
  return spreads;
}

/** Reverse of {@link toRollupSpreads}. */
export function fromRollupSpreads(spreads: Float64Array): Float64Array {
  const values = spreads.slice();
  for (let base = 0; base < values.length; base += ROLLUP_FIELDS) {
    const [min, count] = [spreads[base]!, spreads[base + 3]!];
    values[base + 1] = spreads[base + 1]! + min;
    values[base + 2] = spreads[base + 2]! + count * min;
  }
  return values;
}

export class RollupSeries {
  private block: ColumnBlockWriter | undefined;
  private open: RollupEntry | undefined;

  constructor(readonly spec: RollupTier) {}

  /** Resumes from the newest stored block: its last bucket is reopened, since more samples may still fall in it. */
  static restore(spec: RollupTier, startMs: number, bytes: Uint8Array): RollupSeries {
    const series = new RollupSeries(spec);
    const rows = decodeColumnBlock(bytes, startMs, ROLLUP_ORDERS);
    series.block = ColumnBlockWriter.fromRows(startMs, ROLLUP_ORDERS, rows.slice(0, -1));
    const last = rows.at(-1);
    if (last) series.open = { bucketMs: last.atMs, values: last.values };
    return series;
  }

  get startMs(): number | undefined {
    return this.block?.startMs;
  }

  /** Newest bucket start (exclusive end of the data is this + bucketMs). */
  get lastBucketMs(): number | undefined {
    return this.open?.bucketMs;
  }

  /**
   * Adds a sample taken at `atMs` (never older than the previous one). Returns the finished block when the sample
   * starts a new block, so the caller can persist it one last time.
   */
  add(atMs: number, scaled: Float64Array): ColumnBlockWriter | undefined {
    const { bucketMs, blockSpanMs } = this.spec;
    const bucket = Math.floor(atMs / bucketMs) * bucketMs;
    let finished: ColumnBlockWriter | undefined;
    if (this.open && bucket > this.open.bucketMs) {
      this.block!.append(this.open.bucketMs, this.open.values);
      this.open = undefined;
    }
    if (!this.open && (!this.block || bucket >= this.block.startMs + blockSpanMs || this.block.byteLength >= BLOCK_TARGET_BYTES)) {
      if (this.block && this.block.rows > 0) finished = this.block;
      this.block = ColumnBlockWriter.create(bucket, ROLLUP_ORDERS);
    }
    this.open ??= { bucketMs: bucket, values: new Float64Array(ROLLUP_ORDERS.length).fill(NaN) };
    accumulate(this.open.values, scaled);
    return finished;
  }

  /**
   * Puts back the finished buckets a block just returned by {@link add} could not hold when it was stored
   * (block-format.ts `rest`): they start the current block, which holds no finished bucket yet.
   */
  carry(rows: readonly BlockRow[]): void {
    if (rows.length === 0) return;
    if (this.block && this.block.rows > 0) throw new RangeError('rollup rows can only be carried into a new block');
    this.block = ColumnBlockWriter.fromRows(rows[0]!.atMs, ROLLUP_ORDERS, rows);
  }

  /** Bytes to store: the finished buckets, then the open one. */
  toBytes(): { rows: number; bytes: Uint8Array } {
    if (!this.block) return { rows: 0, bytes: new Uint8Array(0) };
    if (!this.open) return { rows: this.block.rows, bytes: this.block.toBytes() };
    const withOpen = this.block.clone();
    withOpen.append(this.open.bucketMs, this.open.values);
    return { rows: withOpen.rows, bytes: withOpen.toBytes() };
  }
}
