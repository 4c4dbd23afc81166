/**
 * Telemetry history in SQLite (migrations 012, 016): per device, packed blocks of raw samples (tier 0) and of minute
 * and hour rollups (tiers 1 and 2). A finished block is bit-packed (block-format.ts) and inserted once into
 * `telemetry_block`; the open block of each
 * device and tier is kept in memory and rewritten into `telemetry_open_block` at each batch, so a committed sample
 * is on disk, and after a restart it is read back and continued. Must be called inside the batch transaction.
 */
import type { SqliteDatabase } from '../store/database.js';
import { decodeStoredBlock, packFinishedBlock, ROW_FORMAT } from './block-format.js';
import { BLOCK_TARGET_BYTES, ColumnBlockWriter, decodeColumnBlock, type BlockRow } from './column-block.js';
import { HOUR_TIER, MINUTE_TIER, RollupSeries, ROLLUP_ORDERS, type RollupTier } from './rollup-series.js';
import { TELEMETRY_METRICS } from './telemetry-metrics.js';

const RAW_ORDERS = TELEMETRY_METRICS.map((metric) => metric.order);
export const RAW_TIER = 0;
export type TierNumber = 0 | 1 | 2;
/** A raw block closes after this many samples (an hour at 10 s heartbeats)… */
const RAW_BLOCK_ROWS = 360;
/** …or once it spans this long (or holds BLOCK_TARGET_BYTES). */
const RAW_BLOCK_SPAN_MS = 60 * 60_000;
/** A table leaf page's header. */
const LEAF_HEADER_BYTES = 8;
/**
 * What a telemetry_block row costs beside its data and device id, at most: cell pointer (2), payload length and
 * rowid varints (2 + 4), record header (11), tier, start_ms, end_ms, rows and format (1 + 6 + 6 + 2 + 1), and 8 to
 * spare.
 */
const CELL_OVERHEAD_BYTES = 43;

export interface TelemetryHistoryOptions {
  db: SqliteDatabase;
}

interface DeviceState {
  deviceId: string;
  lastAtMs: number;
  raw: ColumnBlockWriter | undefined;
  minute: RollupSeries;
  hour: RollupSeries;
}

interface BlockRowData {
  format: number;
  start_ms: number;
  rows: number;
  data: Uint8Array;
}

export interface TelemetryHistory {
  /** Adds one sample (scaled values); false when it is older than the device's newest stored sample. */
  add(deviceId: string, atMs: number, scaled: Float64Array): boolean;
  /** Writes the open blocks that changed since the last call. */
  persist(): void;
  /** Decoded rows of one tier overlapping [fromMs, toMs], oldest block first. */
  read(deviceId: string, tier: TierNumber, fromMs: number, toMs: number): BlockRow[];
  /** Deletes at most `limit` blocks of `tier` that end before `beforeMs`; returns how many. */
  pruneStep(tier: TierNumber, beforeMs: number, limit: number): number;
}

export function createTelemetryHistory(options: TelemetryHistoryOptions): TelemetryHistory {
  const { db } = options;
  const states = new Map<string, DeviceState>();
  const dirty = new Set<DeviceState>();

  const upsertOpen = db.prepare(
    `INSERT INTO telemetry_open_block (device_id, tier, start_ms, end_ms, rows, data) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (device_id, tier) DO UPDATE
     SET start_ms = excluded.start_ms, end_ms = excluded.end_ms, rows = excluded.rows, data = excluded.data`,
  );
  const insertFinished = db.prepare(
    'INSERT INTO telemetry_block (device_id, tier, start_ms, end_ms, rows, format, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const selectOpen = db.prepare<[string, number], Omit<BlockRowData, 'format'>>(
    'SELECT start_ms, rows, data FROM telemetry_open_block WHERE device_id = ? AND tier = ?',
  );
  const selectRange = db.prepare<[string, number, number, number, string, number, number, number], BlockRowData>(
    `SELECT format, start_ms, rows, data FROM telemetry_block WHERE device_id = ? AND tier = ? AND end_ms >= ? AND start_ms <= ?
     UNION ALL
     SELECT ${ROW_FORMAT}, start_ms, rows, data FROM telemetry_open_block WHERE device_id = ? AND tier = ? AND end_ms >= ? AND start_ms <= ?
     ORDER BY start_ms`,
  );
  const deleteOld = db.prepare('DELETE FROM telemetry_block WHERE id IN (SELECT id FROM telemetry_block WHERE tier = ? AND end_ms < ? LIMIT ?)');
  const deleteOldOpen = db.prepare('DELETE FROM telemetry_open_block WHERE tier = ? AND end_ms < ?');

  function restoreRollup(deviceId: string, spec: RollupTier): RollupSeries {
    const row = selectOpen.get(deviceId, spec.tier);
    return row ? RollupSeries.restore(spec, row.start_ms, row.data) : new RollupSeries(spec);
  }

  function stateOf(deviceId: string): DeviceState {
    let state = states.get(deviceId);
    if (state) return state;
    state = { deviceId, lastAtMs: -Infinity, raw: undefined, minute: restoreRollup(deviceId, MINUTE_TIER), hour: restoreRollup(deviceId, HOUR_TIER) };
    const newest = selectOpen.get(deviceId, RAW_TIER);
    if (newest) {
      const rows = decodeColumnBlock(newest.data, newest.start_ms, RAW_ORDERS);
      const raw = ColumnBlockWriter.fromRows(newest.start_ms, RAW_ORDERS, rows);
      state.raw = raw;
      state.lastAtMs = raw.lastAtMs;
    }
    state.lastAtMs = Math.max(state.lastAtMs, (state.minute.lastBucketMs ?? -Infinity));
    states.set(deviceId, state);
    return state;
  }

  const pageBytes = db.pragma('page_size', { simple: true }) as number;

  /**
   * Finished blocks are inserted in time order, so SQLite appends them to the table's last leaf page and starts a
   * new page when the next one does not fit: blocks of about 1 KB left a fifth of every page empty. A block is cut
   * to at most half a page with its row, so two fill a page.
   */
  const maxBlockBytes = (deviceId: string) =>
    Math.floor((pageBytes - LEAF_HEADER_BYTES) / 2) - CELL_OVERHEAD_BYTES - Buffer.byteLength(deviceId);

  /** The last millisecond of the bucket starting at `bucketMs` (a rollup block's `end_ms`). */
  const bucketEndMs = (spec: RollupTier, bucketMs: number) => bucketMs + spec.bucketMs - 1;

  /**
   * Stores a finished block once, packed (block-format.ts), and returns the rows that did not fit in half a page:
   * they start the next block.
   */
  function insertBlock(deviceId: string, block: ColumnBlockWriter, rollup?: RollupTier): BlockRow[] {
    const packed = packFinishedBlock(block, rollup ? ROLLUP_ORDERS : RAW_ORDERS, rollup !== undefined, maxBlockBytes(deviceId));
    const endMs = rollup ? bucketEndMs(rollup, packed.lastAtMs) : packed.lastAtMs;
    insertFinished.run(deviceId, rollup?.tier ?? RAW_TIER, block.startMs, endMs, packed.rows, packed.format, packed.bytes);
    return packed.rest;
  }

  function writeRollup(deviceId: string, series: RollupSeries): void {
    const { rows, bytes } = series.toBytes();
    if (series.startMs === undefined || series.lastBucketMs === undefined) return;
    upsertOpen.run(deviceId, series.spec.tier, series.startMs, bucketEndMs(series.spec, series.lastBucketMs), rows, bytes);
  }

  return {
    add(deviceId, atMs, scaled) {
      const state = stateOf(deviceId);
      if (atMs < state.lastAtMs) return false;
      state.lastAtMs = atMs;
      const raw = state.raw;
      if (raw && (raw.rows >= RAW_BLOCK_ROWS || raw.byteLength >= BLOCK_TARGET_BYTES || atMs >= raw.startMs + RAW_BLOCK_SPAN_MS)) {
        const rest = insertBlock(deviceId, raw);
        state.raw = rest.length > 0 ? ColumnBlockWriter.fromRows(rest[0]!.atMs, RAW_ORDERS, rest) : undefined;
      }
      state.raw ??= ColumnBlockWriter.create(atMs, RAW_ORDERS);
      state.raw.append(atMs, scaled);
      for (const series of [state.minute, state.hour]) {
        const finished = series.add(atMs, scaled);
        if (finished) series.carry(insertBlock(deviceId, finished, series.spec));
      }
      dirty.add(state);
      return true;
    },
    persist() {
      for (const state of dirty) {
        const raw = state.raw;
        if (raw) upsertOpen.run(state.deviceId, RAW_TIER, raw.startMs, raw.lastAtMs, raw.rows, raw.toBytes());
        writeRollup(state.deviceId, state.minute);
        writeRollup(state.deviceId, state.hour);
      }
      dirty.clear();
    },
    read(deviceId, tier, fromMs, toMs) {
      const orders = tier === RAW_TIER ? RAW_ORDERS : ROLLUP_ORDERS;
      return selectRange.all(deviceId, tier, fromMs, toMs, deviceId, tier, fromMs, toMs).flatMap((row) => decodeStoredBlock(row.format, row.data, row.start_ms, orders));
    },
    pruneStep(tier, beforeMs, limit) {
      const { changes } = deleteOld.run(tier, beforeMs, limit);
      // Open blocks end before the cutoff only for devices silent for a whole retention window: few, deleted at once.
      const openChanges = changes < limit ? deleteOldOpen.run(tier, beforeMs).changes : 0;
      if (changes + openChanges > 0) {
        // An open block that was just deleted must not be rewritten (resurrected) by the next sample.
        for (const state of states.values()) {
          if (tier === RAW_TIER && state.raw && state.raw.lastAtMs < beforeMs) state.raw = undefined;
          for (const key of ['minute', 'hour'] as const) {
            const { spec, lastBucketMs } = state[key];
            if (spec.tier === tier && bucketEndMs(spec, lastBucketMs ?? Infinity) < beforeMs) state[key] = new RollupSeries(spec);
          }
        }
      }
      return changes;
    },
  };
}
