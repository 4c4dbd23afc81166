/**
 * bench:ingest's storage figure: a full device-day (8,640 heartbeats at 10 s) of the same simulated readings for a
 * few devices, through the hub's own ingestion (createTelemetryIngest, default batching, flush timer and rollups)
 * on a fresh store, time compressed with a manual clock. Receipt times jitter by up to ±50 ms, as the hub stamps
 * samples when they arrive. Reports the database bytes (SQLite `dbstat`: pages, so row and index overhead and page
 * slack count) of the telemetry history per device-day, and what each tier holds.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { telemetryToJson } from '../../hub/src/fleet/telemetry-json.js';
import { createTelemetryIngest } from '../../hub/src/fleet/telemetry-ingest.js';
import { createManualClock } from '../../hub/src/clock.js';
import { createLogger } from '../../hub/src/logger.js';
import { openStore } from '../../hub/src/store/store.js';
import { tempDir } from '../support/hub-process.js';
import { DeviceSignal } from './ingest-telemetry.js';

export interface DeviceDayResult {
  devices: number;
  samplesPerDevice: number;
  /** Pages of telemetry_block and its index per device-day: what a day of history adds to the database file. */
  bytesPerDeviceDay: number;
  bytesPerSample: number;
  /** Packed payload bytes per device-day by tier (raw, minute, hour), without row and page overhead. */
  payloadBytesPerDeviceDay: { raw: number; minute: number; hour: number };
  /** Database bytes one device holds at steady state with the default retention (raw 7 d, minute 30 d, hour 365 d). */
  retainedBytesPerDevice: number;
  /** Where the bytes go, per device-day: each table and index (dbstat pages, cell payload, unused page space). */
  objects: Record<string, { bytes: number; payloadBytes: number; unusedBytes: number }>;
  /** Finished blocks per device-day and tier, and their mean data bytes. */
  finishedBlocks: Record<'raw' | 'minute' | 'hour', { blocks: number; meanBytes: number }>;
}

const TIER_NAMES = ['raw', 'minute', 'hour'] as const;

const DAY_MS = 86_400_000;

export function measureDeviceDay(devices = 20, heartbeatSec = 10): DeviceDayResult {
  const dir = tempDir('fedfleet-bench-ingest-day-');
  const clock = createManualClock(Date.UTC(2024, 0, 1));
  const store = openStore({ dataDir: join(dir.path, 'hub'), clock });
  try {
    const ids = Array.from({ length: devices }, () => `dev-${randomBytes(8).toString('hex')}`);
    const insert = store.db.prepare("INSERT INTO devices (id, name, created_at_ms) VALUES (?, 'bench', ?)");
    for (const id of ids) insert.run(id, clock.now());
    const ingest = createTelemetryIngest({ db: store.db, clock, log: createLogger('silent'), retentionHours: 168 });
    ingest.start();
    const signals = ids.map((_, i) => new DeviceSignal(i, heartbeatSec));
    const startMs = clock.now();
    const samplesPerDevice = DAY_MS / (heartbeatSec * 1000);
    // Devices spread over the heartbeat period, each with its own jitter around its slot.
    const slotMs = (i: number) => Math.floor((i / devices) * heartbeatSec * 1000);
    let jitterSeed = 1;
    const jitterMs = () => ((jitterSeed = (jitterSeed * 48271) % 2_147_483_647) % 101) - 50;
    for (let beat = 0; beat < samplesPerDevice; beat++) {
      const beatMs = startMs + beat * heartbeatSec * 1000;
      for (let i = 0; i < devices; i++) {
        const atMs = Math.max(clock.now(), beatMs + slotMs(i) + 50 + jitterMs());
        clock.advance(atMs - clock.now());
        ingest.add({ deviceId: ids[i]!, atMs, telemetry: telemetryToJson(signals[i]!.next()) });
      }
    }
    ingest.stop();
    const objects = store.db
      .prepare("SELECT name, SUM(pgsize) AS bytes, SUM(payload) AS payload, SUM(unused) AS unused, SUM(ncell) AS cells FROM dbstat WHERE name LIKE '%telemetry_%block%' GROUP BY name")
      .all() as Array<{ name: string; bytes: number; payload: number; unused: number; cells: number }>;
    const pages = { bytes: objects.reduce((sum, o) => sum + o.bytes, 0) };
    const perDevice = (bytes: number) => Math.round(bytes / devices);
    const finished = store.db
      .prepare('SELECT tier, COUNT(*) AS blocks, AVG(length(data)) AS meanBytes FROM telemetry_block GROUP BY tier')
      .all() as Array<{ tier: 0 | 1 | 2; blocks: number; meanBytes: number }>;
    const tiers = store.db
      .prepare('SELECT tier, SUM(length(data)) AS bytes FROM (SELECT tier, data FROM telemetry_block UNION ALL SELECT tier, data FROM telemetry_open_block) GROUP BY tier').all() as Array<{ tier: number; bytes: number }>;
    const payload = (tier: number) => Math.round((tiers.find((t) => t.tier === tier)?.bytes ?? 0) / devices);
    const bytesPerDeviceDay = Math.round(pages.bytes / devices);
    const share = (tier: number) => payload(tier) / Math.max(1, payload(0) + payload(1) + payload(2));
    return {
      devices,
      samplesPerDevice,
      bytesPerDeviceDay,
      bytesPerSample: Number((bytesPerDeviceDay / samplesPerDevice).toFixed(2)),
      payloadBytesPerDeviceDay: { raw: payload(0), minute: payload(1), hour: payload(2) },
      retainedBytesPerDevice: Math.round(bytesPerDeviceDay * (7 * share(0) + 30 * share(1) + 365 * share(2))),
      objects: Object.fromEntries(
        objects.map((o) => [o.name, { bytes: perDevice(o.bytes), payloadBytes: perDevice(o.payload), unusedBytes: perDevice(o.unused) }]),
      ),
      finishedBlocks: Object.fromEntries(
        finished.map((f) => [TIER_NAMES[f.tier], { blocks: Number((f.blocks / devices).toFixed(1)), meanBytes: Math.round(f.meanBytes) }]),
      ) as DeviceDayResult['finishedBlocks'],
    };
  } finally {
    store.close();
    dir.remove();
  }
}
