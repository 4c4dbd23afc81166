/**
 * Finished telemetry blocks, bit-packed column by column (block format 2, block-format.ts). The open block of each
 * device grows row by row in the append-only row format (column-block.ts); once it is finished it never changes, so
 * it is rewritten here, whole, the way Prometheus TSDB cuts a chunk and Facebook's Gorilla (Pelkonen et al., VLDB
 * 2015, section 4.1) closes a 2-hour block: no per-sample compression on the ingest path.
 *
 * Each column (the timestamps, then every metric) is a sequence of scaled integers. Per column and block the
 * encoder picks the prediction that packs it best — the value itself (order 0), its delta (order 1, gauges) or its
 * delta-of-delta (order 2, counters and steady clocks) — and stores the residuals frame-of-reference: the minimum
 * once, then each residual minus it, divided by their common divisor (memory counted in pages, disk in blocks), in
 * the fixed bit width the largest needs. A constant column costs no bits per row; a column identical to an earlier
 * one (a rollup's per-metric sample counts) is stored as a reference to it.
 *
 * Layout (bit stream, bit-io.ts): uint rows; the timestamp column (atMs − startMs); per metric column a 2-bit
 * presence mode (absent, present in every row, bitmap of rows, same as column j) and the present values as an
 * integer column: order (2 bits), sparse flag (1 bit), sint head values (`order` of them), when sparse one bit per
 * residual saying it is not zero, then the frame of the (non-zero) residuals: width (6 bits), and when there are
 * any: sint minimum, when width > 0 a flag and uint divisor if it is not 1, and width-bit residuals.
 */
import { BitReader, BitWriter, bitWidth } from './bit-io.js';
import type { BlockRow } from './column-block.js';
import { zigzag } from './varint.js';

const enum Presence {
  None = 0,
  All = 1,
  Bitmap = 2,
  SameAs = 3,
}

/** Frame of reference for a run of integers: each is stored as (value − min) / divisor in `width` bits. */
interface FramePlan {
  min: number;
  divisor: number;
  width: number;
  costBits: number;
}

interface IntPlan {
  order: 0 | 1 | 2;
  head: number[];
  /** Sparse: a bit per residual says whether it is not zero, and only those are framed (rarely moving gauges). */
  sparse: boolean;
  diffs: number[];
  frame: FramePlan;
  costBits: number;
}

function gcd(a: number, b: number): number {
  let [x, y] = [a, b];
  while (y > 0) [x, y] = [y, x % y];
  return x;
}

const varintBits = (value: number) => 8 * Math.max(1, Math.ceil(bitWidth(zigzag(value)) / 7));

/** k-th differences of `values` from index k on; undefined when one is not a safe integer. */
function differences(values: readonly number[], order: 0 | 1 | 2): number[] | undefined {
  const out: number[] = [];
  for (let i = order; i < values.length; i++) {
    const v = values[i]!;
    const d = order === 0 ? v : order === 1 ? v - values[i - 1]! : v - 2 * values[i - 1]! + values[i - 2]!;
    if (!Number.isSafeInteger(d)) return undefined;
    out.push(d);
  }
  return out;
}

function planFrame(values: readonly number[]): FramePlan | undefined {
  if (values.length === 0) return { min: 0, divisor: 1, width: 0, costBits: 6 };
  let [min, max] = [values[0]!, values[0]!];
  for (const value of values) {
    if (value < min) min = value;
    else if (value > max) max = value;
  }
  if (!Number.isSafeInteger(max - min)) return undefined;
  let divisor = 0;
  for (let i = 0; i < values.length && divisor !== 1; i++) divisor = gcd(divisor, values[i]! - min);
  divisor ||= 1;
  const width = bitWidth((max - min) / divisor);
  const costBits = 6 + varintBits(min) + (width > 0 ? 1 + (divisor > 1 ? varintBits(divisor) : 0) : 0) + width * values.length;
  return { min, divisor, width, costBits };
}

/** The cheapest order and layout for one column of safe integers, or undefined when none is exact. */
function planInts(values: readonly number[]): IntPlan | undefined {
  let best: IntPlan | undefined;
  for (const order of [0, 1, 2] as const) {
    if (order > 0 && values.length <= order) break;
    const diffs = differences(values, order);
    if (!diffs) continue;
    const head = values.slice(0, order);
    const headBits = 3 + head.reduce((bits, value) => bits + varintBits(value), 0);
    for (const sparse of [false, true]) {
      const frame = planFrame(sparse ? diffs.filter((d) => d !== 0) : diffs);
      if (!frame) continue;
      const costBits = headBits + frame.costBits + (sparse ? diffs.length : 0);
      if (!best || costBits < best.costBits) best = { order, head, sparse, diffs, frame, costBits };
    }
  }
  return best;
}

function writeFrame(out: BitWriter, frame: FramePlan, values: readonly number[]): void {
  out.bits(frame.width, 6);
  if (values.length === 0) return;
  out.sint(frame.min);
  if (frame.width === 0) return;
  out.bits(frame.divisor > 1 ? 1 : 0, 1);
  if (frame.divisor > 1) out.uint(frame.divisor);
  for (const value of values) out.bits((value - frame.min) / frame.divisor, frame.width);
}

function readFrame(input: BitReader, count: number): number[] {
  const width = input.bits(6);
  if (count === 0) return [];
  const min = input.sint();
  const divisor = width > 0 && input.bits(1) === 1 ? input.uint() : 1;
  return Array.from({ length: count }, () => min + (width > 0 ? input.bits(width) * divisor : 0));
}

function writeInts(out: BitWriter, plan: IntPlan): void {
  out.bits(plan.order, 2);
  out.bits(plan.sparse ? 1 : 0, 1);
  for (const value of plan.head) out.sint(value);
  if (plan.sparse) for (const d of plan.diffs) out.bits(d !== 0 ? 1 : 0, 1);
  writeFrame(out, plan.frame, plan.sparse ? plan.diffs.filter((d) => d !== 0) : plan.diffs);
}

function readInts(input: BitReader, count: number): number[] {
  const order = input.bits(2);
  if (order > 2) throw new RangeError('bad prediction order');
  const sparse = input.bits(1) === 1;
  const values: number[] = [];
  for (let i = 0; i < Math.min(order, count); i++) values.push(input.sint());
  const diffCount = count - values.length;
  const nonZero = sparse ? Array.from({ length: diffCount }, () => input.bits(1) === 1) : [];
  const framed = readFrame(input, sparse ? nonZero.filter(Boolean).length : diffCount);
  let next = 0;
  for (let i = 0; i < diffCount; i++) {
    const d = sparse && !nonZero[i] ? 0 : framed[next++]!;
    const at = values.length;
    values.push(order === 0 ? d : order === 1 ? values[at - 1]! + d : 2 * values[at - 1]! - values[at - 2]! + d);
  }
  return values;
}

function sameColumn(rows: readonly BlockRow[], a: number, b: number): boolean {
  return rows.every((row) => Object.is(row.values[a], row.values[b]));
}

/**
 * Packs finished rows (timestamps not decreasing, from `startMs` on; values safe integers or NaN). Undefined when a
 * column has no exact packing (differences beyond 2^53): the caller keeps the row format for that block.
 */
export function encodePackedBlock(rows: readonly BlockRow[], startMs: number, columns: number): Uint8Array | undefined {
  const out = new BitWriter();
  out.uint(rows.length);
  const times = planInts(rows.map((row) => row.atMs - startMs));
  if (!times) return undefined;
  writeInts(out, times);
  for (let c = 0; c < columns; c++) {
    const present = rows.filter((row) => !Number.isNaN(row.values[c]!));
    const same = present.length > 0 ? [...Array(c).keys()].find((earlier) => sameColumn(rows, earlier, c)) : undefined;
    if (same !== undefined) {
      out.bits(Presence.SameAs, 2);
      out.uint(same);
      continue;
    }
    const mode = present.length === 0 ? Presence.None : present.length === rows.length ? Presence.All : Presence.Bitmap;
    out.bits(mode, 2);
    if (mode === Presence.Bitmap) for (const row of rows) out.bits(Number.isNaN(row.values[c]!) ? 0 : 1, 1);
    if (mode === Presence.None) continue;
    const plan = planInts(present.map((row) => row.values[c]!));
    if (!plan) return undefined;
    writeInts(out, plan);
  }
  return out.toBytes();
}

/** Decodes a block written by {@link encodePackedBlock} with the same `startMs` and column count. */
export function decodePackedBlock(bytes: Uint8Array, startMs: number, columns: number): BlockRow[] {
  const input = new BitReader(bytes);
  const count = input.uint();
  const rows: BlockRow[] = readInts(input, count).map((offsetMs) => ({ atMs: startMs + offsetMs, values: new Float64Array(columns).fill(NaN) }));
  for (let c = 0; c < columns; c++) {
    const mode = input.bits(2) as Presence;
    if (mode === Presence.None) continue;
    if (mode === Presence.SameAs) {
      const earlier = input.uint();
      if (earlier >= c) throw new RangeError('bad column reference');
      for (const row of rows) row.values[c] = row.values[earlier]!;
      continue;
    }
    const present = mode === Presence.All ? rows : rows.filter(() => input.bits(1) === 1);
    const values = readInts(input, present.length);
    present.forEach((row, i) => (row.values[c] = values[i]!));
  }
  return rows;
}
