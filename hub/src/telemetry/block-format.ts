/**
 * The encodings a stored telemetry block may have, named by `telemetry_block.format` (migration 016):
 * 1 = the append-only row format (column-block.ts) that open blocks always use and that finished blocks written
 * before migration 016 keep; 2 = bit-packed columns (packed-block.ts), what a raw block becomes once finished;
 * 3 = bit-packed rollup spreads (rollup-series.ts `toRollupSpreads`), what a rollup block becomes once finished.
 */
import { decodeColumnBlock, type BlockRow, type ColumnBlockWriter, type PredictionOrder } from './column-block.js';
import { decodePackedBlock, encodePackedBlock } from './packed-block.js';
import { fromRollupSpreads, toRollupSpreads } from './rollup-series.js';

export const ROW_FORMAT = 1;
export const PACKED_FORMAT = 2;
export const PACKED_ROLLUP_FORMAT = 3;
export type BlockFormat = typeof ROW_FORMAT | typeof PACKED_FORMAT | typeof PACKED_ROLLUP_FORMAT;

export interface FinishedBlock {
  format: BlockFormat;
  bytes: Uint8Array;
  /** How many of the block's rows `bytes` holds (a prefix), and the newest one's time. */
  rows: number;
  lastAtMs: number;
  /** The rows left out to keep within `maxBytes`: they start the next block. */
  rest: BlockRow[];
}

/** Rollup rows as spreads, or undefined when one row has a spread that is not exact. */
function spreadRows(rows: readonly BlockRow[]): BlockRow[] | undefined {
  const spread: BlockRow[] = [];
  for (const row of rows) {
    const values = toRollupSpreads(row.values);
    if (!values) return undefined;
    spread.push({ atMs: row.atMs, values });
  }
  return spread;
}

/**
 * A finished block in its stored form: packed (as spreads when it holds rollups), else — when a column cannot be
 * packed exactly — the row format it was written in. When the packed block is larger than `maxBytes`, only the
 * longest prefix of rows that fits is stored and the others are returned in `rest`: the caller sizes blocks so that
 * whole ones fill database pages (telemetry-history.ts).
 */
export function packFinishedBlock(block: ColumnBlockWriter, orders: readonly PredictionOrder[], rollup: boolean, maxBytes = Infinity): FinishedBlock {
  const rowBytes = block.toBytes();
  const rows = decodeColumnBlock(rowBytes, block.startMs, orders);
  const spread = rollup ? spreadRows(rows) : undefined;
  const format = spread ? PACKED_ROLLUP_FORMAT : PACKED_FORMAT;
  const packable = spread ?? rows;
  const pack = (count: number) => encodePackedBlock(packable.slice(0, count), block.startMs, orders.length);
  let count = rows.length;
  let bytes = pack(count);
  if (!bytes) return { format: ROW_FORMAT, bytes: rowBytes, rows: rows.length, lastAtMs: block.lastAtMs, rest: [] };
  if (bytes.length > maxBytes && count > 1) {
    // A shorter prefix packs no larger, but for a varint byte or two (its widths are the same or narrower); only a
    // prefix seen to fit is kept. Size grows about linearly with rows: probe the proportional guess and a few rows
    // around it, then bisect what is left.
    let [fits, tooLarge, fitting] = [1, count, undefined as Uint8Array | undefined];
    const probe = (rows: number) => {
      const candidate = pack(rows)!;
      if (candidate.length <= maxBytes) [fits, fitting] = [rows, candidate];
      else tooLarge = rows;
    };
    probe(Math.max(1, Math.min(count - 1, Math.floor((count * maxBytes) / bytes.length))));
    if (tooLarge - fits > 1) probe(fitting ? Math.min(fits + 4, tooLarge - 1) : Math.max(1, tooLarge - 8));
    while (tooLarge - fits > 1) probe(Math.floor((fits + tooLarge) / 2));
    [count, bytes] = [fits, fitting ?? pack(1)!];
  }
  return { format, bytes, rows: count, lastAtMs: rows[count - 1]!.atMs, rest: rows.slice(count) };
}

/** Decodes a stored block of any format. */
export function decodeStoredBlock(format: number, bytes: Uint8Array, startMs: number, orders: readonly PredictionOrder[]): BlockRow[] {
  if (format === ROW_FORMAT) return decodeColumnBlock(bytes, startMs, orders);
  if (format === PACKED_FORMAT) return decodePackedBlock(bytes, startMs, orders.length);
  if (format === PACKED_ROLLUP_FORMAT) {
    return decodePackedBlock(bytes, startMs, orders.length).map((row) => ({ atMs: row.atMs, values: fromRollupSpreads(row.values) }));
  }
  throw new RangeError(`unknown telemetry block format ${format}`);
}
