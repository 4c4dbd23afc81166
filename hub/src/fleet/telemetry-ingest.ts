/**
 * Telemetry ingestion (DESIGN section 6): samples are queued and written in batches, one transaction per batch —
 * the latest sample per device in `telemetry_latest`, and every sample into packed history blocks with minute and
 * hour rollups (hub/src/telemetry/). The queue is bounded: when the store falls behind (a batch fails and is kept
 * for the next try), samples beyond `maxQueueSamples` are dropped and counted. Pruning deletes a few blocks at a
 * time per tier so it never holds the database for long. Reads flush first, so an API caller sees what the hub
 * has received.
 */
import { DEFAULT_CONFIG } from '../config.js';
import type { HubLogger } from '../logger.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { SqliteDatabase } from '../store/database.js';
import type { TelemetryJson } from './telemetry-json.js';
import { createTelemetryHistory, type TierNumber } from '../telemetry/telemetry-history.js';
import { scaleTelemetry } from '../telemetry/telemetry-metrics.js';
import {
  answerTelemetryQuery,
  planTelemetryQuery,
  type RetentionMs,
  type TelemetryQueryParams,
  type TelemetryQueryResult,
} from '../telemetry/telemetry-query.js';

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
  /** Minute rollups older than this are pruned. Default: the config's `telemetryMinuteRetentionDays` (30). */
  minuteRetentionDays?: number;
  /** Hour rollups older than this are pruned. Default: the config's `telemetryHourRetentionDays` (365). */
  hourRetentionDays?: number;
  /** Samples per transaction; reaching it flushes at once. Default 500. */
  batchSize?: number;
  /** Most samples waiting to be written; more are dropped and counted. Default 50,000. */
  maxQueueSamples?: number;
  /** Longest a sample waits in the queue. Default 250 ms: a committed sample is under a second old (bench:ingest). */
  flushIntervalMs?: number;
  /** How often old history is pruned. Default 1 minute. */
  pruneIntervalMs?: number;
  /** Blocks deleted per tier per prune step. Default 200. */
  pruneBatchBlocks?: number;
}

export interface TelemetryIngestStats {
  /** Samples committed to the store. */
  written: number;
  /** Samples dropped because the queue was full. */
  dropped: number;
  /** Samples kept only as latest: older than the device's newest stored sample. */
  outOfOrder: number;
  /** Samples waiting in the queue. */
  queued: number;
}

export interface TelemetryIngest {
  add(sample: TelemetrySample): void;
  /** Writes the queue in one transaction; returns the number of samples written. */
  flush(): number;
  latest(deviceId: string): { atMs: number; telemetry: TelemetryJson } | undefined;
  /** One metric of one device over a time range, at the resolution the range and step call for. */
  query(deviceId: string, params: TelemetryQueryParams): TelemetryQueryResult;
  /** Deletes history older than each tier's retention, one small step after another; returns blocks deleted. */
  prune(): number;
  stats(): TelemetryIngestStats;
  start(): void;
  stop(): void;
}

const DAY_MS = 86_400_000;
const TIERS: readonly TierNumber[] = [0, 1, 2];

export function createTelemetryIngest(options: TelemetryIngestOptions): TelemetryIngest {
  const { db, clock, log } = options;
  const batchSize = options.batchSize ?? 500;
  const maxQueueSamples = options.maxQueueSamples ?? 50_000;
  const pruneBatchBlocks = options.pruneBatchBlocks ?? 200;
  const retention: RetentionMs = {
    raw: options.retentionHours * 3_600_000,
    minute: (options.minuteRetentionDays ?? DEFAULT_CONFIG.telemetryMinuteRetentionDays) * DAY_MS,
    hour: (options.hourRetentionDays ?? DEFAULT_CONFIG.telemetryHourRetentionDays) * DAY_MS,
  };
  const retentionOf = [retention.raw, retention.minute, retention.hour];
  const history = createTelemetryHistory({ db });
  const counts = { written: 0, dropped: 0, outOfOrder: 0 };
  let queue: TelemetrySample[] = [];
  const timers: TimerHandle[] = [];
  let pruneTimer: TimerHandle | undefined;

  const upsertLatest = db.prepare(
    `INSERT INTO telemetry_latest (device_id, at_ms, data) VALUES (?, ?, ?)
     ON CONFLICT (device_id) DO UPDATE SET at_ms = excluded.at_ms, data = excluded.data
     WHERE excluded.at_ms >= telemetry_latest.at_ms`,
  );
  const deviceExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM devices WHERE id = ?');
  const selectLatest = db.prepare<[string], { at_ms: number; data: string }>('SELECT at_ms, data FROM telemetry_latest WHERE device_id = ?');

  const writeBatch = db.transaction((samples: TelemetrySample[]) => {
    let outOfOrder = 0;
    for (const sample of samples) {
      // A device revoked and purged meanwhile would break the foreign key; skip it rather than lose the batch.
      if (!deviceExists.get(sample.deviceId)) continue;
      upsertLatest.run(sample.deviceId, sample.atMs, JSON.stringify(sample.telemetry));
      if (!history.add(sample.deviceId, sample.atMs, scaleTelemetry(sample.telemetry))) outOfOrder++;
    }
    history.persist();
    return outOfOrder;
  });

  /** One step per tier; true when a tier may have more to delete. */
  function pruneStep(): { deleted: number; more: boolean } {
    let deleted = 0;
    let more = false;
    for (const tier of TIERS) {
      const changes = history.pruneStep(tier, clock.now() - retentionOf[tier]!, pruneBatchBlocks);
      deleted += changes;
      if (changes === pruneBatchBlocks) more = true;
    }
    return { deleted, more };
  }

  /** Timer-driven pruning: one step per tick, the next step queued behind whatever ingestion is waiting. */
  function schedulePrune(): void {
    if (pruneTimer) return;
    pruneTimer = clock.setTimeout(() => {
      pruneTimer = undefined;
      ingest.flush();
      const { deleted, more } = pruneStep();
      if (deleted > 0) log.debug({ blocks: deleted }, 'old telemetry history pruned');
      if (more) schedulePrune();
    }, 1); // a timer, not a loop: messages that arrived meanwhile are handled between two steps
  }

  const ingest: TelemetryIngest = {
    add(sample) {
      if (queue.length >= maxQueueSamples) {
        counts.dropped++;
        if (counts.dropped === 1 || counts.dropped % 1000 === 0) log.warn({ dropped: counts.dropped }, 'telemetry queue full; samples dropped');
        return;
      }
      queue.push(sample);
      if (queue.length >= batchSize) ingest.flush();
    },
    flush() {
      if (queue.length === 0) return 0;
      const batch = queue;
      queue = [];
      try {
        counts.outOfOrder += writeBatch(batch);
      } catch (error) {
        // Keep the batch for the next flush; the queue bound turns a store that stays behind into counted drops.
        log.error({ err: error, samples: batch.length }, 'telemetry batch write failed');
        queue = batch.concat(queue).slice(0, maxQueueSamples);
        return 0;
      }
      counts.written += batch.length;
      return batch.length;
    },
    latest(deviceId) {
      ingest.flush();
      const row = selectLatest.get(deviceId);
      return row && { atMs: row.at_ms, telemetry: JSON.parse(row.data) as TelemetryJson };
    },
    query(deviceId, params) {
      const plan = planTelemetryQuery(params, clock.now(), retention);
      ingest.flush();
      return answerTelemetryQuery(plan, history.read(deviceId, plan.tier, Math.max(plan.fromMs, plan.retainedFromMs), plan.toMs));
    },
    prune() {
      ingest.flush();
      let total = 0;
      for (;;) {
        const { deleted, more } = pruneStep();
        total += deleted;
        if (!more) return total;
      }
    },
    stats() {
      return { ...counts, queued: queue.length };
    },
    start() {
      schedulePrune();
      timers.push(clock.setInterval(() => ingest.flush(), options.flushIntervalMs ?? 250));
      timers.push(clock.setInterval(() => schedulePrune(), options.pruneIntervalMs ?? 60_000));
    },
    stop() {
      for (const timer of timers.splice(0)) clock.clearTimer(timer);
      if (pruneTimer) clock.clearTimer(pruneTimer);
      pruneTimer = undefined;
      ingest.flush();
    },
  };
  return ingest;
}
