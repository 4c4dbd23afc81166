/**
 * Finished telemetry blocks are bit-packed (packed-block.ts, block formats 2 and 3) and decode to exactly the rows
 * the row format held: property tests over arbitrary series with gaps, repeated timestamps, columns that come and
 * go, extreme magnitudes; values too large to pack exactly keep the row format; blocks written before migration 016
 * (row format, no `format` column yet) still read back after it (issue 11, item 1).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { BitReader, BitWriter } from '../../src/telemetry/bit-io.js';
import { decodeStoredBlock, packFinishedBlock, PACKED_FORMAT, PACKED_ROLLUP_FORMAT, ROW_FORMAT } from '../../src/telemetry/block-format.js';
import { ColumnBlockWriter, decodeColumnBlock, type BlockRow, type PredictionOrder } from '../../src/telemetry/column-block.js';
import { decodePackedBlock, encodePackedBlock } from '../../src/telemetry/packed-block.js';
import { accumulate, MINUTE_TIER, ROLLUP_ORDERS, RollupSeries } from '../../src/telemetry/rollup-series.js';
import { createTelemetryHistory } from '../../src/telemetry/telemetry-history.js';
import { TELEMETRY_METRICS } from '../../src/telemetry/telemetry-metrics.js';
import { openDatabase } from '../../src/store/database.js';
import { listMigrations, migrate } from '../../src/store/migrate.js';

const LIMIT = 2 ** 44;
/** Small moves, any stored magnitude, a fixed value (runs of zero residuals), absent. */
const scaledValue = fc.oneof(fc.integer({ min: -300, max: 300 }), fc.integer({ min: -LIMIT, max: LIMIT }), fc.constant(4096), fc.constant(NaN));

function seriesArbitrary(columns: number) {
  return fc
    .record({
      startMs: fc.integer({ min: 0, max: 2 ** 42 }),
      rows: fc.array(
        fc.record({ stepMs: fc.oneof(fc.constant(0), fc.integer({ min: 9_950, max: 10_050 }), fc.integer({ min: 0, max: 10 ** 9 })), values: fc.array(scaledValue, { minLength: columns, maxLength: columns }) }),
        { minLength: 1, maxLength: 200 },
      ),
    })
    .map(({ startMs, rows }) => {
      let atMs = startMs;
      return { startMs, rows: rows.map((row, i): BlockRow => ({ atMs: (atMs += i === 0 ? 0 : row.stepMs), values: Float64Array.from(row.values) })) };
    });
}

const ordersArbitrary = fc.array(fc.constantFrom<PredictionOrder>(1, 2), { minLength: 1, maxLength: 24 });

function rowBlock(startMs: number, orders: readonly PredictionOrder[], rows: readonly BlockRow[]): ColumnBlockWriter {
  const writer = ColumnBlockWriter.create(startMs, orders);
  for (const row of rows) writer.append(row.atMs, row.values);
  return writer;
}

describe('bit streams', () => {
  it('read back every field at its width, and varints between them', () => {
    const field = fc.integer({ min: 0, max: 53 }).chain((width) => fc.tuple(fc.constant(width), fc.integer({ min: 0, max: Math.min(2 ** width - 1, Number.MAX_SAFE_INTEGER) })));
    fc.assert(fc.property(fc.array(fc.tuple(field, fc.integer({ min: -LIMIT, max: LIMIT }))), (fields) => {
      const out = new BitWriter();
      for (const [[width, value], signed] of fields) {
        out.bits(value, width);
        out.sint(signed);
      }
      const input = new BitReader(out.toBytes());
      expect(fields.map(([[width], _signed]) => [input.bits(width), input.sint()])).toEqual(fields.map(([[, value], signed]) => [value, signed]));
    }));
  });
});

describe('packed blocks', () => {
  it('decode to exactly the rows packed, for any gaps, missing columns and magnitudes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }).chain((columns) => fc.tuple(fc.constant(columns), seriesArbitrary(columns))), ([columns, { startMs, rows }]) => {
        const bytes = encodePackedBlock(rows, startMs, columns);
        expect(bytes).toBeDefined();
        expect(decodePackedBlock(bytes!, startMs, columns)).toEqual(rows);
      }),
      { numRuns: 300 },
    );
  });

  it('a stored finished block reads back as the row format held it, raw and rollup', () => {
    fc.assert(
      fc.property(ordersArbitrary.chain((orders) => fc.tuple(fc.constant(orders), seriesArbitrary(orders.length))), ([orders, { startMs, rows }]) => {
        const block = rowBlock(startMs, orders, rows);
        const raw = packFinishedBlock(block, orders, false);
        expect(raw.format).toBe(PACKED_FORMAT);
        expect(decodeStoredBlock(raw.format, raw.bytes, startMs, orders)).toEqual(decodeColumnBlock(block.toBytes(), startMs, orders));
      }),
      { numRuns: 200 },
    );
  });

  it('rollup blocks pack as spreads from the minimum and decode to the same min / max / sum / count', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ stepMs: fc.integer({ min: 10_000, max: 20_000 }), cpu: fc.option(fc.integer({ min: 0, max: 10_000 })), big: fc.integer({ min: -LIMIT, max: LIMIT }) }), { minLength: 400, maxLength: 600 }), (steps) => {
        const series = new RollupSeries(MINUTE_TIER);
        const stored: Array<{ block: ColumnBlockWriter }> = [];
        let atMs = 1_700_000_000_000;
        for (const step of steps) {
          const values = new Float64Array(TELEMETRY_METRICS.length).fill(NaN);
          values[0] = step.cpu ?? NaN;
          values[2] = step.big;
          const finished = series.add((atMs += step.stepMs), values);
          if (finished) stored.push({ block: finished });
        }
        expect(stored.length).toBeGreaterThan(0);
        for (const { block } of stored) {
          const packed = packFinishedBlock(block, ROLLUP_ORDERS, true);
          expect(packed.format).toBe(PACKED_ROLLUP_FORMAT);
          expect(decodeStoredBlock(packed.format, packed.bytes, block.startMs, ROLLUP_ORDERS)).toEqual(decodeColumnBlock(block.toBytes(), block.startMs, ROLLUP_ORDERS));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('a block larger than the limit stores the longest prefix that fits and hands back the rest', () => {
    fc.assert(
      fc.property(ordersArbitrary.chain((orders) => fc.tuple(fc.constant(orders), seriesArbitrary(orders.length))), fc.integer({ min: 20, max: 3000 }), ([orders, { startMs, rows }], maxBytes) => {
        const block = rowBlock(startMs, orders, rows);
        const stored = packFinishedBlock(block, orders, false, maxBytes);
        const kept = decodeStoredBlock(stored.format, stored.bytes, startMs, orders);
        expect([...kept, ...stored.rest]).toEqual(decodeColumnBlock(block.toBytes(), startMs, orders));
        expect(stored.rows).toBe(kept.length);
        expect(stored.lastAtMs).toBe(kept.at(-1)!.atMs);
        if (stored.rows > 1) expect(stored.bytes.length).toBeLessThanOrEqual(maxBytes);
        if (stored.rest.length > 0) expect(packFinishedBlock(block, orders, false).bytes.length).toBeGreaterThan(maxBytes);
      }),
      { numRuns: 200 },
    );
  });

  it('values whose differences pass 2^53 keep the row format instead of packing them wrong', () => {
    const rows: BlockRow[] = [
      { atMs: 0, values: Float64Array.of(2 ** 52, 1) },
      { atMs: 10, values: Float64Array.of(-(2 ** 52), 2) },
    ];
    expect(encodePackedBlock(rows, 0, 2)).toBeUndefined();
    // Beyond the metrics' documented range (2^44), so only the fallback is checked: the row bytes, unchanged.
    const block = rowBlock(0, [1, 1], rows);
    expect(packFinishedBlock(block, [1, 1], false, 10)).toEqual({ format: ROW_FORMAT, bytes: block.toBytes(), rows: 2, lastAtMs: 10, rest: [] });
  });

  it('a steady heartbeat, constant columns and a steady counter cost almost nothing per row', () => {
    const rows = Array.from({ length: 500 }, (_, i): BlockRow => ({ atMs: i * 10_000, values: Float64Array.of(2_097_152, 1_000_000 + 10 * i, i % 50 === 0 ? 3 + ((i / 50) % 5) : 0) }));
    // Row format: ≥ 1 byte per row for the header alone. Packed: headers, plus one bit per row for the sparse column.
    expect(encodePackedBlock(rows, 0, 3)!.length).toBeLessThan(100);
  });
});

describe('stored blocks across migration 016', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  /** A migrations folder holding the given migrations only (others' work in progress stays out of this test). */
  function migrationsUpTo(...versions: number[]): string {
    const dir = mkdtempSync(join(tmpdir(), 'fedfleet-migrations-'));
    dirs.push(dir);
    for (const file of listMigrations()) if (versions.includes(file.version)) copyFileSync(file.path, join(dir, file.name));
    return dir;
  }

  it('blocks written in the row format before it still read back; new finished blocks are packed', () => {
    const db = openDatabase(':memory:');
    const upTo012 = Array.from({ length: 12 }, (_, i) => i + 1);
    migrate(db, migrationsUpTo(...upTo012));
    db.prepare("INSERT INTO devices (id, name, created_at_ms) VALUES ('dev-1', 'd', 0)").run();
    const orders = TELEMETRY_METRICS.map((metric) => metric.order);
    const old = Array.from({ length: 30 }, (_, i): BlockRow => ({ atMs: 1000 + i * 10_000, values: new Float64Array(orders.length).fill(NaN).fill(i * 7, 0, 3) }));
    const oldBlock = rowBlock(1000, orders, old);
    // What the code before migration 016 wrote: no format column.
    db.prepare('INSERT INTO telemetry_block (device_id, tier, start_ms, end_ms, rows, data) VALUES (?, 0, ?, ?, ?, ?)').run('dev-1', 1000, oldBlock.lastAtMs, old.length, oldBlock.toBytes());
    migrate(db, migrationsUpTo(...upTo012, 16));

    const history = createTelemetryHistory({ db });
    const later = Array.from({ length: 400 }, (_, i): BlockRow => ({ atMs: 1_000_000 + i * 10_000, values: new Float64Array(orders.length).fill(NaN).fill(i, 0, 5) }));
    for (const row of later) history.add('dev-1', row.atMs, row.values);
    history.persist();
    expect(history.read('dev-1', 0, 0, Number.MAX_SAFE_INTEGER)).toEqual([...old, ...later]);
    const formats = db.prepare('SELECT format, COUNT(*) AS blocks FROM telemetry_block WHERE tier = 0 GROUP BY format').all();
    expect(formats).toEqual([{ format: ROW_FORMAT, blocks: 1 }, expect.objectContaining({ format: PACKED_FORMAT })]);
    db.close();
  });

  it('finished blocks of noisy readings fill half a page each; reads return every sample and exact rollups, across a restart', () => {
    const db = openDatabase(':memory:');
    migrate(db, migrationsUpTo(...Array.from({ length: 12 }, (_, i) => i + 1), 16));
    const deviceId = 'dev-noisy-0123456789';
    db.prepare("INSERT INTO devices (id, name, created_at_ms) VALUES (?, 'd', 0)").run(deviceId);
    let history = createTelemetryHistory({ db });
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const walk = new Float64Array(TELEMETRY_METRICS.length).fill(100_000);
    const samples: BlockRow[] = [];
    for (let i = 0; i < 3000; i++) {
      walk.forEach((value, c) => (walk[c] = value + Math.round((random() - 0.5) * 2 ** (c % 12))));
      samples.push({ atMs: 1_700_000_000_000 + i * 10_000 + Math.round(random() * 100), values: walk.slice() });
      history.add(deviceId, samples.at(-1)!.atMs, samples.at(-1)!.values);
      if (i === 1500) {
        // A restart: the rows carried into open blocks were persisted with them and continue.
        history.persist();
        history = createTelemetryHistory({ db });
      }
    }
    history.persist();
    expect(history.read(deviceId, 0, 0, Number.MAX_SAFE_INTEGER)).toEqual(samples);
    const minutes = new Map<number, Float64Array>();
    for (const sample of samples) {
      const bucketMs = Math.floor(sample.atMs / 60_000) * 60_000;
      if (!minutes.has(bucketMs)) minutes.set(bucketMs, new Float64Array(ROLLUP_ORDERS.length).fill(NaN));
      accumulate(minutes.get(bucketMs)!, sample.values);
    }
    expect(history.read(deviceId, 1, 0, Number.MAX_SAFE_INTEGER)).toEqual([...minutes].map(([atMs, values]) => ({ atMs, values })));
    // Half a 4 KiB page, less the row's own bytes (43 at most beside the data and the device id).
    const maxBytes = Math.floor((4096 - 8) / 2) - 43 - deviceId.length;
    const sizes = db.prepare('SELECT length(data) AS bytes FROM telemetry_block').all() as Array<{ bytes: number }>;
    expect(sizes.length).toBeGreaterThan(10);
    for (const { bytes } of sizes) expect(bytes).toBeLessThanOrEqual(maxBytes);
    expect(sizes.filter(({ bytes }) => bytes > maxBytes * 0.9).length).toBeGreaterThan(sizes.length * 0.8);
    db.close();
  });
});
