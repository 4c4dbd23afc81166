/**
 * The quality fields of a `telemetry` event (Telemetry 21, 23–25, proto/fleet.proto): read defensively, since a
 * device may send anything the wire allows (a histogram with no bins, negative counts, hi ≤ lo).
 */
import type { TelemetryJson } from '../fleet/telemetry-json.js';
import type { BinnedInputs } from './drift-measures.js';

export interface TelemetryQuality {
  /** The serving version; undefined when the device serves none. */
  versionId: string | undefined;
  localAccuracy: number | undefined;
  localAccuracyExamples: number;
  inputStats: BinnedInputs | undefined;
  inputBaseline: BinnedInputs | undefined;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function histogram(value: unknown): BinnedInputs | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { lo, hi, counts, examples } = value as Record<string, unknown>;
  if (!finite(lo) || !finite(hi) || !(hi > lo) || !finite(examples) || !Array.isArray(counts)) return undefined;
  const numbers = counts.map(Number);
  if (numbers.length === 0 || numbers.some((c) => !Number.isFinite(c) || c < 0)) return undefined;
  return { lo, hi, counts: numbers, examples };
}

export function telemetryQuality(t: TelemetryJson): TelemetryQuality {
  const accuracy = t.localAccuracy;
  return {
    versionId: t.activeVersionId || undefined,
    localAccuracy: finite(accuracy) && accuracy >= 0 && accuracy <= 1 ? accuracy : undefined,
    localAccuracyExamples: finite(t.localAccuracyExamples) ? t.localAccuracyExamples : 0,
    inputStats: histogram(t.inputStats),
    inputBaseline: histogram(t.inputBaseline),
  };
}
