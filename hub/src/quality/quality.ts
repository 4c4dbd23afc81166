/**
 * Per-device model quality (issue 11 item 2), decorated as `hub.quality`: records accuracy samples from the three
 * sources (federated eval, self-test, feedback windows in telemetry) with the device's baseline, measures input
 * drift from the histograms devices report, and announces both (`device.quality`, `device.input-drift`).
 * hub/docs/quality.md describes the sources, the baseline rule and the measures.
 */
import type { Clock } from '../clock.js';
import type { HubEvents } from '../events/hub-events.js';
import type { TelemetryJson } from '../fleet/telemetry-json.js';
import type { HubLogger } from '../logger.js';
import { comparable, ksDistance, psi } from './drift-measures.js';
import './quality-events.js';
import type { LatestAccuracy, QualityRepo, QualitySample } from './quality-repo.js';
import type { DeviceQualityJson } from './schemas.js';
import { telemetryQuality } from './telemetry-quality.js';

export type { DeviceQualityJson };

/** Labels a feedback window must cover to count as an accuracy sample (fewer make a noisy estimate). */
export const MIN_FEEDBACK_EXAMPLES = 50;
/** Examples the recent-input histogram must cover before drift is measured. */
export const MIN_DRIFT_EXAMPLES = 200;
/** Default of {@link QualityOptions.intervalMs}. */
export const DEFAULT_QUALITY_INTERVAL_MS = 60_000;

export interface QualityOptions {
  repo: QualityRepo;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
  /** The model a version belongs to and its number; undefined for a version the registry does not know. */
  versionOf(versionId: string): { modelId: string; version: number } | undefined;
  /**
   * Least time between two feedback samples, and between two drift measures, of one device (telemetry comes every
   * heartbeat; a sample a minute is history enough and keeps the writes per device small). Default 60,000 ms.
   */
  intervalMs?: number;
}

export interface Quality {
  /**
   * Stores one accuracy sample and announces it with the baseline after it. `modelId` defaults to the registry's.
   * @returns false for a repeat (a sample with the same ref) or a sample that could not be stored (unknown device).
   */
  record(sample: Omit<QualitySample, 'modelId'> & { modelId?: string | null }): boolean;
  /** A device's telemetry: its feedback window (when it has enough labels) and its input drift, each rate-limited. */
  onTelemetry(deviceId: string, telemetry: TelemetryJson): void;
  deviceQuality(deviceId: string): DeviceQualityJson;
  /** Each device's newest accuracy sample: what a restarted process starts from before new samples arrive. */
  latestAccuracies(): LatestAccuracy[];
}

export function createQuality(options: QualityOptions): Quality {
  const { repo, events, clock, log, versionOf } = options;
  const intervalMs = options.intervalMs ?? DEFAULT_QUALITY_INTERVAL_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  // In memory: after a restart a device may give one sample early, which is harmless.
  const lastFeedbackMs = new Map<string, number>();
  const lastDriftMs = new Map<string, number>();
  const due = (last: Map<string, number>, deviceId: string, nowMs: number) => {
    const previous = last.get(deviceId);
    return previous === undefined || nowMs - previous >= intervalMs;
  };

  function record(input: Omit<QualitySample, 'modelId'> & { modelId?: string | null }): boolean {
    const sample: QualitySample = { ...input, modelId: input.modelId !== undefined ? input.modelId : versionOf(input.versionId)?.modelId ?? null };
    let stored;
    try {
      stored = repo.addSample(sample);
    } catch (error) {
      // A device deleted meanwhile (foreign key): nothing to record against.
      log.warn({ deviceId: sample.deviceId, versionId: sample.versionId, err: (error as Error).message }, 'quality sample not stored');
      return false;
    }
    if (!stored) return false;
    events.emit('device.quality', {
      deviceId: sample.deviceId, modelId: sample.modelId, versionId: sample.versionId, source: sample.source,
      accuracy: sample.accuracy, examples: sample.examples, baseline: stored.baseline.accuracy, at: iso(sample.atMs),
    });
    return true;
  }

  function measureDrift(deviceId: string, q: ReturnType<typeof telemetryQuality>, nowMs: number): void {
    const { inputStats: stats, inputBaseline: baseline } = q;
    if (!stats || !baseline || !comparable(stats, baseline) || stats.examples < MIN_DRIFT_EXAMPLES || baseline.examples < 1) return;
    if (!due(lastDriftMs, deviceId, nowMs)) return;
    const drift = { psi: psi(stats.counts, baseline.counts), ks: ksDistance(stats.counts, baseline.counts), examples: stats.examples, baselineExamples: baseline.examples };
    try {
      repo.putInputDrift(deviceId, { ...drift, atMs: nowMs });
    } catch (error) {
      log.warn({ deviceId, err: (error as Error).message }, 'input drift not stored');
      return;
    }
    lastDriftMs.set(deviceId, nowMs);
    events.emit('device.input-drift', { deviceId, ...drift, at: iso(nowMs) });
  }

  return {
    record,
    onTelemetry(deviceId, telemetry) {
      const nowMs = clock.now();
      const q = telemetryQuality(telemetry);
      if (q.versionId && q.localAccuracy !== undefined && q.localAccuracyExamples >= MIN_FEEDBACK_EXAMPLES && due(lastFeedbackMs, deviceId, nowMs)) {
        lastFeedbackMs.set(deviceId, nowMs);
        record({ deviceId, versionId: q.versionId, source: 'feedback', ref: null, accuracy: q.localAccuracy, examples: q.localAccuracyExamples, atMs: nowMs });
      }
      measureDrift(deviceId, q, nowMs);
    },
    latestAccuracies: () => repo.latestAccuracies(),
    deviceQuality(deviceId) {
      const versions = [...repo.deviceQuality(deviceId)].map(([versionId, v]) => {
        const known = versionOf(versionId);
        return {
          modelId: v.modelId ?? known?.modelId ?? null, versionId, version: known?.version ?? null,
          baseline: v.baseline && { accuracy: v.baseline.accuracy, source: v.baseline.source, at: iso(v.baseline.atMs) },
          samples: v.samples.map((s) => ({ source: s.source, accuracy: s.accuracy, examples: s.examples, at: iso(s.at_ms) })),
        };
      });
      // Oldest version first (by number where the registry knows it, else by first sample).
      versions.sort((a, b) => (a.version ?? Infinity) - (b.version ?? Infinity) || (a.samples[0]?.at ?? '').localeCompare(b.samples[0]?.at ?? ''));
      const drift = repo.inputDriftOf(deviceId);
      return { deviceId, versions, inputDrift: drift ? { psi: drift.psi, ks: drift.ks, examples: drift.examples, baselineExamples: drift.baselineExamples, at: iso(drift.atMs) } : null };
    },
  };
}
