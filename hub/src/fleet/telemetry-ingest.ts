/**
 * Telemetry ingestion (DESIGN section 6): samples are queued and written in batches, one transaction per batch —
 * the latest sample per device, and every sample in `telemetry_raw` for the retention window. Old raw samples are
 * pruned on a timer. Reads flush first, so an API caller always sees what the hub has received.
 */
import type { HubLogger } from '../logger.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { SqliteDatabase } from '../store/database.js';
import type { TelemetryJson } from './telemetry-json.js';

export interface TelemetrySample {
  deviceId: string;
  atMs: number;
  telemetry: TelemetryJson;
}

export interface TelemetryIngestOptions {
  db: SqliteDatabase;
  clock: Clock;
  log: HubLogger;
  /** Raw samples older than this are pruned. */
  retentionHours: number;
  /** Samples per transaction; reaching it flushes at once. Default 500. */
  batchSize?: number;
  /** Longest a sample waits in the queue. Default 1000 ms. */
  flushIntervalMs?: number;
  /** How often old raw samples are pruned. Default 10 minutes. */
  pruneIntervalMs?: number;
}

export interface TelemetryIngest {
  add(sample: TelemetrySample): void;
  /** Writes the queue in one transaction; returns the number of samples written. */
  flush(): number;
  latest(deviceId: string): { atMs: number; telemetry: TelemetryJson } | undefined;
  /** Raw samples of one device, oldest first. */
  history(deviceId: string, query: { sinceMs?: number; limit?: number }): TelemetrySample[];
  /** Deletes raw samples older than the retention window; returns how many. */
  prune(): number;
  start(): void;
  stop(): void;
}

export function createTelemetryIngest(options: TelemetryIngestOptions): TelemetryIngest {
  const { db, clock, log } = options;
  const batchSize = options.batchSize ?? 500;
  const retentionMs = options.retentionHours * 3_600_000;
  let queue: TelemetrySample[] = [];
  const timers: TimerHandle[] = [];

  const insertRaw = db.prepare('INSERT INTO telemetry_raw (device_id, at_ms, data) VALUES (?, ?, ?)');
  const upsertLatest = db.prepare(
    `INSERT INTO telemetry_latest (device_id, at_ms, data) VALUES (?, ?, ?)
     ON CONFLICT (device_id) DO UPDATE SET at_ms = excluded.at_ms, data = excluded.data
     WHERE excluded.at_ms >= telemetry_latest.at_ms`,
  );
  const deviceExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM devices WHERE id = ?');
  const selectLatest = db.prepare<[string], { at_ms: number; data: string }>('SELECT at_ms, data FROM telemetry_latest WHERE device_id = ?');
  const selectHistory = db.prepare<[string, number, number], { at_ms: number; data: string }>(
    'SELECT at_ms, data FROM telemetry_raw WHERE device_id = ? AND at_ms >= ? ORDER BY at_ms, id LIMIT ?',
  );
  const deleteOld = db.prepare('DELETE FROM telemetry_raw WHERE at_ms < ?');

  const writeBatch = db.transaction((samples: TelemetrySample[]) => {
    for (const sample of samples) {
      // A device revoked and purged meanwhile would break the foreign key; skip it rather than lose the batch.
      if (!deviceExists.get(sample.deviceId)) continue;
      const data = JSON.stringify(sample.telemetry);
      insertRaw.run(sample.deviceId, sample.atMs, data);
      upsertLatest.run(sample.deviceId, sample.atMs, data);
    }
  });

  const ingest: TelemetryIngest = {
    add(sample) {
      queue.push(sample);
      if (queue.length >= batchSize) ingest.flush();
    },
    flush() {
      if (queue.length === 0) return 0;
      const batch = queue;
      queue = [];
      try {
        writeBatch(batch);
      } catch (error) {
        log.error({ err: error, samples: batch.length }, 'telemetry batch write failed');
        return 0;
      }
      return batch.length;
    },
    latest(deviceId) {
      ingest.flush();
      const row = selectLatest.get(deviceId);
      return row && { atMs: row.at_ms, telemetry: JSON.parse(row.data) as TelemetryJson };
    },
    history(deviceId, query) {
      ingest.flush();
      return selectHistory
        .all(deviceId, query.sinceMs ?? 0, query.limit ?? 1000)
        .map((row) => ({ deviceId, atMs: row.at_ms, telemetry: JSON.parse(row.data) as TelemetryJson }));
    },
    prune() {
      ingest.flush();
      const { changes } = deleteOld.run(clock.now() - retentionMs);
      if (changes > 0) log.debug({ samples: changes }, 'old raw telemetry pruned');
      return changes;
    },
    start() {
      ingest.prune();
      timers.push(clock.setInterval(() => ingest.flush(), options.flushIntervalMs ?? 1000));
      timers.push(clock.setInterval(() => ingest.prune(), options.pruneIntervalMs ?? 10 * 60_000));
    },
    stop() {
      for (const timer of timers.splice(0)) clock.clearTimer(timer);
      ingest.flush();
    },
  };
  return ingest;
}
