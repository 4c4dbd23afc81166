/** Telemetry as JSON: the protobuf message with 64-bit counters as plain numbers and unset optional fields absent. */
import { Telemetry, type fedfleet } from '@fedfleet/proto';
import Type, { type Static } from 'typebox';

const Num = () => Type.Optional(Type.Number());

/** proto InputHistogram: value counts in equal-width bins over [lo, hi), and the examples they summarise. */
const InputHistogramJsonSchema = Type.Object({
  lo: Type.Number(),
  hi: Type.Number(),
  counts: Type.Array(Type.Number()),
  examples: Type.Number(),
});
const HISTOGRAM_KEYS = ['inputStats', 'inputBaseline'] as const;

/**
 * Numbers are optional: proto3 sends 0 for unset plain fields, `optional` fields are absent when unset, and a
 * non-finite value (NaN from a broken sensor) is dropped because JSON cannot carry it.
 */
export const TelemetryJsonSchema = Type.Object({
  cpuPercent: Num(),
  memTotalBytes: Num(),
  memFreeBytes: Num(),
  rssBytes: Num(),
  load1: Num(),
  load5: Num(),
  load15: Num(),
  uptimeSec: Num(),
  agentUptimeSec: Num(),
  temperatureC: Num(),
  diskFreeBytes: Num(),
  diskTotalBytes: Num(),
  netRxBytes: Num(),
  netTxBytes: Num(),
  batteryPercent: Num(),
  charging: Type.Boolean(),
  activeVersionId: Type.String(),
  inferenceCount: Num(),
  inferenceP50Ms: Num(),
  inferenceP95Ms: Num(),
  localAccuracy: Num(),
  heartbeatSec: Num(),
  localAccuracyExamples: Num(),
  inputStats: Type.Optional(InputHistogramJsonSchema),
  inputBaseline: Type.Optional(InputHistogramJsonSchema),
});

export type TelemetryJson = Static<typeof TelemetryJsonSchema>;

export function telemetryToJson(message: fedfleet.v1.ITelemetry): TelemetryJson {
  const object = Telemetry.toObject(Telemetry.fromObject(message), { longs: Number, defaults: true, oneofs: false });
  for (const [key, value] of Object.entries(object)) {
    // JSON has no NaN or Infinity; a sensor that reports one is treated as not reporting.
    if (typeof value === 'number' && !Number.isFinite(value)) delete object[key];
  }
  // An absent histogram decodes as null; one whose range is not finite cannot be compared or carried as JSON.
  for (const key of HISTOGRAM_KEYS) {
    const h = object[key] as { lo: number; hi: number } | null | undefined;
    if (!h || !Number.isFinite(h.lo) || !Number.isFinite(h.hi)) delete object[key];
  }
  return object as TelemetryJson;
}
