/**
 * The numeric telemetry metrics kept in history, each with the precision it is stored at and how it moves.
 * One table for the codec, the rollups and the query's `metric` parameter (hub/docs/http-api.md lists it).
 * Precision: a stored value is `round(value × scale) / scale`. Byte counts are kept in whole KiB (Linux reports
 * memory in kB and disk space in blocks, so nothing real is lost); the non-numeric fields (`charging`,
 * `activeVersionId`) are only in the latest sample.
 */
import type { TelemetryJson } from '../fleet/telemetry-json.js';
import type { PredictionOrder } from './column-block.js';

type NumericKey = { [K in keyof TelemetryJson]-?: TelemetryJson[K] extends number | undefined ? K : never }[keyof TelemetryJson];

export interface MetricSpec {
  name: NumericKey;
  /** Stored integer = round(value × scale). */
  scale: number;
  /** 2 for counters that grow steadily (uptime, traffic, inference count), 1 for gauges. */
  order: PredictionOrder;
}

const KIB = 1 / 1024;

export const TELEMETRY_METRICS: readonly MetricSpec[] = [
  { name: 'cpuPercent', scale: 100, order: 1 },
  { name: 'memTotalBytes', scale: KIB, order: 1 },
  { name: 'memFreeBytes', scale: KIB, order: 1 },
  { name: 'rssBytes', scale: KIB, order: 1 },
  { name: 'load1', scale: 100, order: 1 },
  { name: 'load5', scale: 100, order: 1 },
  { name: 'load15', scale: 100, order: 1 },
  { name: 'uptimeSec', scale: 1, order: 2 },
  { name: 'agentUptimeSec', scale: 1, order: 2 },
  { name: 'temperatureC', scale: 10, order: 1 },
  { name: 'diskFreeBytes', scale: KIB, order: 1 },
  { name: 'diskTotalBytes', scale: KIB, order: 1 },
  { name: 'netRxBytes', scale: KIB, order: 2 },
  { name: 'netTxBytes', scale: KIB, order: 2 },
  { name: 'batteryPercent', scale: 10, order: 1 },
  { name: 'inferenceCount', scale: 1, order: 2 },
  { name: 'inferenceP50Ms', scale: 100, order: 1 },
  { name: 'inferenceP95Ms', scale: 100, order: 1 },
  { name: 'localAccuracy', scale: 10_000, order: 1 },
  { name: 'heartbeatSec', scale: 1000, order: 1 },
];

export const TELEMETRY_METRIC_NAMES = TELEMETRY_METRICS.map((metric) => metric.name);

/** Index of a metric's column in a raw block, or -1. */
export function metricIndex(name: string): number {
  return TELEMETRY_METRICS.findIndex((metric) => metric.name === name);
}

/** Scaled values stay far below 2^53 so sums over an hour of samples remain exact integers. */
const MAX_SCALED = 2 ** 44;

/** One raw row: each metric scaled to an integer, NaN where the sample lacks it (or it is out of range). */
export function scaleTelemetry(telemetry: TelemetryJson): Float64Array {
  const values = new Float64Array(TELEMETRY_METRICS.length);
  TELEMETRY_METRICS.forEach((metric, i) => {
    const value = telemetry[metric.name];
    const scaled = typeof value === 'number' ? Math.round(value * metric.scale) : NaN;
    values[i] = Number.isFinite(scaled) && Math.abs(scaled) <= MAX_SCALED ? scaled : NaN;
  });
  return values;
}

/** The value a scaled integer stands for (dividing by a power of ten gives the nearest double to the decimal). */
export function unscale(metric: MetricSpec, scaled: number): number {
  return scaled / metric.scale;
}
