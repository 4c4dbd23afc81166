/**
 * The quality tables of migration 013: accuracy samples (bounded per device, version and source; pruned in the
 * transaction that inserts), the baseline per device and version (baseline-rule.ts), the latest input drift.
 */
import type { SqliteDatabase } from '../store/database.js';
import { nextBaseline, type BaselineRecord } from './baseline-rule.js';
import type { QualitySource } from './quality-events.js';

/** Samples kept per (device, version, source); older ones are pruned. */
export const MAX_SAMPLES_PER_SERIES = 500;

export interface QualitySample {
  deviceId: string;
  versionId: string;
  modelId: string | null;
  source: QualitySource;
  /** What produced it, once (`round:<id>`, `rollout:<id>`); null for feedback windows. */
  ref: string | null;
  accuracy: number;
  examples: number;
  atMs: number;
}

export interface LatestAccuracy { deviceId: string; versionId: string; accuracy: number }

export interface InputDriftRecord { psi: number; ks: number; examples: number; baselineExamples: number; atMs: number }

interface SampleRow { version_id: string; model_id: string | null; source: QualitySource; accuracy: number; examples: number; at_ms: number }
interface BaselineRow { version_id: string; source: QualitySource; accuracy: number; feedback_windows: number; at_ms: number }
interface DriftRow { psi: number; ks: number; examples: number; baseline_examples: number; at_ms: number }

const toBaseline = (r: BaselineRow): BaselineRecord => ({ source: r.source, accuracy: r.accuracy, feedbackWindows: r.feedback_windows, atMs: r.at_ms });

export function createQualityRepo(db: SqliteDatabase, options: { maxSamplesPerSeries?: number } = {}) {
  const keep = options.maxSamplesPerSeries ?? MAX_SAMPLES_PER_SERIES;
  const q = {
    insert: db.prepare(`INSERT OR IGNORE INTO device_quality_samples (device_id, version_id, model_id, source, ref, accuracy, examples, at_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    // Everything older than the newest `keep` of the series.
    prune: db.prepare(`DELETE FROM device_quality_samples WHERE device_id = ? AND version_id = ? AND source = ? AND id NOT IN (
      SELECT id FROM device_quality_samples WHERE device_id = ? AND version_id = ? AND source = ? ORDER BY at_ms DESC, id DESC LIMIT ?)`),
    baseline: db.prepare<[string, string], BaselineRow>('SELECT * FROM device_quality_baselines WHERE device_id = ? AND version_id = ?'),
    putBaseline: db.prepare(`INSERT INTO device_quality_baselines (device_id, version_id, source, accuracy, feedback_windows, at_ms) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (device_id, version_id) DO UPDATE SET source = excluded.source, accuracy = excluded.accuracy,
      feedback_windows = excluded.feedback_windows, at_ms = excluded.at_ms`),
    baselines: db.prepare<[string], BaselineRow>('SELECT * FROM device_quality_baselines WHERE device_id = ?'),
    samples: db.prepare<[string], SampleRow>('SELECT * FROM device_quality_samples WHERE device_id = ? ORDER BY at_ms, id'),
    drift: db.prepare<[string], DriftRow>('SELECT * FROM device_input_drift WHERE device_id = ?'),
    // Each device's newest sample (any version, any source).
    latest: db.prepare<[], { device_id: string; version_id: string; accuracy: number }>(`SELECT s.device_id, s.version_id, s.accuracy
      FROM device_quality_samples s WHERE s.id = (SELECT t.id FROM device_quality_samples t WHERE t.device_id = s.device_id
      ORDER BY t.at_ms DESC, t.id DESC LIMIT 1)`),
    putDrift: db.prepare(`INSERT INTO device_input_drift (device_id, psi, ks, examples, baseline_examples, at_ms) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (device_id) DO UPDATE SET psi = excluded.psi, ks = excluded.ks, examples = excluded.examples,
      baseline_examples = excluded.baseline_examples, at_ms = excluded.at_ms`),
  };

  const baselineOf = (deviceId: string, versionId: string): BaselineRecord | undefined => {
    const row = q.baseline.get(deviceId, versionId);
    return row && toBaseline(row);
  };

  return {
    /** Each device's newest accuracy sample, with the version it was measured on. */
    latestAccuracies: (): LatestAccuracy[] =>
      q.latest.all().map((r) => ({ deviceId: r.device_id, versionId: r.version_id, accuracy: r.accuracy })),
    /**
     * Stores a sample, prunes its series and moves the baseline, in one transaction.
     * @returns the baseline after the sample, or undefined when the sample was a repeat (same ref) and nothing changed.
     */
    addSample: db.transaction((s: QualitySample): { baseline: BaselineRecord } | undefined => {
      if (q.insert.run(s.deviceId, s.versionId, s.modelId, s.source, s.ref, s.accuracy, s.examples, s.atMs).changes === 0) return undefined;
      q.prune.run(s.deviceId, s.versionId, s.source, s.deviceId, s.versionId, s.source, keep);
      const current = baselineOf(s.deviceId, s.versionId);
      const next = nextBaseline(current, s);
      if (next) q.putBaseline.run(s.deviceId, s.versionId, next.source, next.accuracy, next.feedbackWindows, next.atMs);
      return { baseline: (next ?? current)! };
    }),
    baselineOf,
    /** Every version the device has samples or a baseline for, with both, oldest sample first. */
    deviceQuality(deviceId: string) {
      const versions = new Map<string, { modelId: string | null; baseline: BaselineRecord | null; samples: Array<Omit<SampleRow, 'version_id' | 'model_id'>> }>();
      const of = (versionId: string) => {
        let v = versions.get(versionId);
        if (!v) versions.set(versionId, (v = { modelId: null, baseline: null, samples: [] }));
        return v;
      };
      for (const row of q.baselines.all(deviceId)) of(row.version_id).baseline = toBaseline(row);
      for (const { version_id, model_id, ...sample } of q.samples.all(deviceId)) {
        const v = of(version_id);
        v.modelId ??= model_id;
        v.samples.push(sample);
      }
      return versions;
    },
    putInputDrift(deviceId: string, d: InputDriftRecord): void {
      q.putDrift.run(deviceId, d.psi, d.ks, d.examples, d.baselineExamples, d.atMs);
    },
    inputDriftOf(deviceId: string): InputDriftRecord | undefined {
      const row = q.drift.get(deviceId);
      return row && { psi: row.psi, ks: row.ks, examples: row.examples, baselineExamples: row.baseline_examples, atMs: row.at_ms };
    },
  };
}

export type QualityRepo = ReturnType<typeof createQualityRepo>;
