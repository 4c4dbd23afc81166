/**
 * A packed block of rows (a timestamp and one scaled integer per column), the storage unit of telemetry history.
 * After Gorilla (Pelkonen et al., VLDB 2015, section 4.1) as used by Prometheus TSDB chunks: timestamps are stored
 * as delta-of-delta, so a steady heartbeat costs one byte per row. Values differ from Gorilla's XOR of doubles:
 * telemetry has a known precision per metric (telemetry-metrics.ts), so each value is a scaled integer stored as
 * the varint residual against a prediction — the previous value for gauges (order 1), the previous value plus the
 * previous delta for counters (order 2). Only residuals that are not zero are written (a bit mask says which), so
 * a metric that does not move costs one bit. Appending never rewrites earlier bytes.
 *
 * Row layout: uint(zigzag(timestamp delta-of-delta) × 4 + sameChangedMask × 2 + presenceChanged), [presence mask],
 * [changed mask, unless the same as the previous row's], sint residual for each changed column. Masks are
 * ⌈columns / 8⌉ bytes, bit i = column i.
 */
import { ByteReader, ByteWriter, unzigzag, zigzag } from './varint.js';

/** 1: predict the previous value (gauges); 2: predict the previous value plus the previous delta (counters). */
export type PredictionOrder = 1 | 2;

export interface BlockRow {
  atMs: number;
  /** One scaled integer per column; NaN = the column is absent in this row. */
  values: Float64Array;
}

interface CodecState {
  lastAtMs: number;
  lastAtDeltaMs: number;
  present: Uint8Array;
  last: Float64Array;
  lastDelta: Float64Array;
  lastChanged: Uint8Array;
}

function initialState(startMs: number, columns: number): CodecState {
  return {
    lastAtMs: startMs,
    lastAtDeltaMs: 0,
    present: new Uint8Array(columns),
    last: new Float64Array(columns),
    lastDelta: new Float64Array(columns),
    lastChanged: new Uint8Array(maskBytes(columns)),
  };
}

function copyState(state: CodecState): CodecState {
  return {
    lastAtMs: state.lastAtMs,
    lastAtDeltaMs: state.lastAtDeltaMs,
    present: state.present.slice(),
    last: state.last.slice(),
    lastDelta: state.lastDelta.slice(),
    lastChanged: state.lastChanged.slice(),
  };
}

const maskBytes = (columns: number) => Math.ceil(columns / 8);

/**
 * An open block is finished once it holds this many bytes in this row format: it is rewritten at every batch, so it
 * stays within one 4 KiB SQLite page with its newest rollup row (a table leaf keeps up to 4,061 bytes of a row
 * locally, beyond that overflow pages are written too). Finished, it is packed (packed-block.ts) to about half.
 */
export const BLOCK_TARGET_BYTES = 3600;

/** Advances the timestamp state and returns the delta-of-delta to store. */
function stepTime(state: CodecState, atMs: number): number {
  const deltaMs = atMs - state.lastAtMs;
  const dod = deltaMs - state.lastAtDeltaMs;
  state.lastAtMs = atMs;
  state.lastAtDeltaMs = deltaMs;
  return dod;
}

/** Advances column `i` to `value` and returns the residual to store. */
function stepValue(state: CodecState, orders: readonly PredictionOrder[], i: number, value: number): number {
  const predicted = orders[i] === 2 ? state.last[i]! + state.lastDelta[i]! : state.last[i]!;
  state.lastDelta[i] = value - state.last[i]!;
  state.last[i] = value;
  return value - predicted;
}

/** Reverse of {@link stepValue}. */
function unstepValue(state: CodecState, orders: readonly PredictionOrder[], i: number, residual: number): number {
  const predicted = orders[i] === 2 ? state.last[i]! + state.lastDelta[i]! : state.last[i]!;
  const value = predicted + residual;
  state.lastDelta[i] = value - state.last[i]!;
  state.last[i] = value;
  return value;
}

/** A column that (re)appears starts from zero, on both sides, so the codec needs no per-column header. */
function applyPresence(state: CodecState, mask: Uint8Array): void {
  for (let i = 0; i < state.present.length; i++) {
    const present = (mask[i >> 3]! >> (i & 7)) & 1;
    if (present && !state.present[i]) {
      state.last[i] = 0;
      state.lastDelta[i] = 0;
    }
    state.present[i] = present;
  }
}

export class ColumnBlockWriter {
  private rowCount = 0;

  private constructor(
    readonly startMs: number,
    private readonly orders: readonly PredictionOrder[],
    private readonly writer: ByteWriter,
    private readonly state: CodecState,
  ) {}

  static create(startMs: number, orders: readonly PredictionOrder[]): ColumnBlockWriter {
    return new ColumnBlockWriter(startMs, orders, new ByteWriter(), initialState(startMs, orders.length));
  }

  /** A block holding `rows` (in time order, from `startMs` on). */
  static fromRows(startMs: number, orders: readonly PredictionOrder[], rows: readonly BlockRow[]): ColumnBlockWriter {
    const writer = ColumnBlockWriter.create(startMs, orders);
    for (const row of rows) writer.append(row.atMs, row.values);
    return writer;
  }

  get rows(): number {
    return this.rowCount;
  }

  get byteLength(): number {
    return this.writer.byteLength;
  }

  get lastAtMs(): number {
    return this.state.lastAtMs;
  }

  /** `values` holds scaled integers (safe integers), NaN for absent columns. */
  append(atMs: number, values: Float64Array): void {
    const { state, orders, writer } = this;
    const columns = orders.length;
    const presence = new Uint8Array(maskBytes(columns));
    let presenceChanged = 0;
    for (let i = 0; i < columns; i++) {
      const present = Number.isNaN(values[i]!) ? 0 : 1;
      if (present) presence[i >> 3]! |= 1 << (i & 7);
      if (present !== state.present[i]) presenceChanged = 1;
    }
    const dod = stepTime(state, atMs);
    if (presenceChanged) applyPresence(state, presence);
    const changed = new Uint8Array(maskBytes(columns));
    const residuals: number[] = [];
    for (let i = 0; i < columns; i++) {
      if (!state.present[i]) continue;
      const residual = stepValue(state, orders, i, values[i]!);
      if (residual !== 0) {
        changed[i >> 3]! |= 1 << (i & 7);
        residuals.push(residual);
      }
    }
    const sameChanged = changed.every((byte, i) => byte === state.lastChanged[i]) ? 1 : 0;
    writer.uint(zigzag(dod) * 4 + sameChanged * 2 + presenceChanged);
    if (presenceChanged) writer.bytes(presence);
    if (!sameChanged) writer.bytes(changed);
    state.lastChanged = changed;
    for (const residual of residuals) writer.sint(residual);
    this.rowCount++;
  }

  /** An independent copy: the rollup tiers persist "finished entries + the open one" without closing it. */
  clone(): ColumnBlockWriter {
    const copy = new ColumnBlockWriter(this.startMs, this.orders, new ByteWriter(this.writer.toBytes()), copyState(this.state));
    copy.rowCount = this.rowCount;
    return copy;
  }

  toBytes(): Uint8Array {
    return this.writer.toBytes();
  }
}

/** Decodes every row of a block written by {@link ColumnBlockWriter} with the same `orders`. */
export function decodeColumnBlock(bytes: Uint8Array, startMs: number, orders: readonly PredictionOrder[]): BlockRow[] {
  const columns = orders.length;
  const state = initialState(startMs, columns);
  const reader = new ByteReader(bytes);
  const rows: BlockRow[] = [];
  while (!reader.done) {
    const header = reader.uint();
    const deltaMs = state.lastAtDeltaMs + unzigzag(Math.floor(header / 4));
    state.lastAtMs += deltaMs;
    state.lastAtDeltaMs = deltaMs;
    if (header % 2 === 1) applyPresence(state, reader.bytes(maskBytes(columns)));
    const changed = Math.floor(header / 2) % 2 === 1 ? state.lastChanged : reader.bytes(maskBytes(columns)).slice();
    state.lastChanged = changed;
    const values = new Float64Array(columns).fill(NaN);
    for (let i = 0; i < columns; i++) {
      if (!state.present[i]) continue;
      const residual = (changed[i >> 3]! >> (i & 7)) & 1 ? reader.sint() : 0;
      values[i] = unstepValue(state, orders, i, residual);
    }
    rows.push({ atMs: state.lastAtMs, values });
  }
  return rows;
}
