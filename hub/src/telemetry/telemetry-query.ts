/**
 * `GET /v1/devices/:id/telemetry`: one metric of one device over [from, to], at the coarsest resolution the step
 * allows — raw samples below a minute, minute rollups below an hour, hour rollups above — and never finer than
 * what is still retained at `from`. Rollup buckets are merged into `step`-wide points aligned to the epoch.
 * Bounds (hub/docs/http-api.md): at most {@link MAX_POINTS} steps per query and {@link MAX_RAW_POINTS} raw samples.
 */
import { HubError } from '../errors.js';
import type { BlockRow } from './column-block.js';
import { HOUR_TIER, MINUTE_TIER, ROLLUP_FIELDS } from './rollup-series.js';
import { metricIndex, TELEMETRY_METRICS, unscale } from './telemetry-metrics.js';
import type { TierNumber } from './telemetry-history.js';

export const MAX_POINTS = 2000;
export const MAX_RAW_POINTS = 5000;
/** The default range when `from` is absent. */
export const DEFAULT_RANGE_MS = 3_600_000;
const MAX_RANGE_MS = 400 * 86_400_000;

export type TelemetryResolution = 'raw' | 'minute' | 'hour';

export interface TelemetryQueryParams {
  metric: string;
  from?: string;
  to?: string;
  /** Seconds between points. */
  step?: number;
}

export interface RetentionMs {
  raw: number;
  minute: number;
  hour: number;
}

export interface TelemetryQueryPlan {
  metricIndex: number;
  fromMs: number;
  toMs: number;
  stepMs: number;
  resolution: TelemetryResolution;
  tier: TierNumber;
  /**
   * The oldest time the tier still retains (now − its retention). Rows before it are not answered even when their
   * block is not pruned yet: a block goes only once its newest row is past the retention, so it can hold rows up to
   * its span (an hour of raw samples, days of hour rollups) older than that.
   */
  retainedFromMs: number;
}

export type TelemetryPoint = { at: string; value: number } | { at: string; min: number; mean: number; max: number; count: number };

export interface TelemetryQueryResult {
  metric: string;
  resolution: TelemetryResolution;
  from: string;
  to: string;
  stepSec: number;
  /** True when the raw range held more than {@link MAX_RAW_POINTS} samples and the newest were left out. */
  truncated: boolean;
  points: TelemetryPoint[];
}

function bad(message: string): HubError {
  return new HubError('HUB_ERR_TELEMETRY_QUERY', { message });
}

function parseTime(value: string | undefined, name: string, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw bad(`${name} is not a date-time`);
  return ms;
}

/** Validates the parameters against the clock and the retention windows, and picks the resolution. */
export function planTelemetryQuery(params: TelemetryQueryParams, nowMs: number, retention: RetentionMs): TelemetryQueryPlan {
  const index = metricIndex(params.metric);
  if (index < 0) throw bad(`unknown metric ${params.metric}`);
  const toMs = parseTime(params.to, 'to', nowMs);
  const fromMs = parseTime(params.from, 'from', toMs - DEFAULT_RANGE_MS);
  if (fromMs >= toMs) throw bad('from must be before to');
  if (toMs - fromMs > MAX_RANGE_MS) throw bad(`the range may span at most ${MAX_RANGE_MS / 86_400_000} days`);
  const minStepMs = Math.ceil((toMs - fromMs) / MAX_POINTS / 1000) * 1000;
  const stepMs = params.step === undefined ? Math.max(minStepMs, 10_000) : params.step * 1000;
  if (stepMs < minStepMs) throw bad(`step must be at least ${minStepMs / 1000} s for this range (${MAX_POINTS} points at most)`);
  let tier: TierNumber = stepMs < MINUTE_TIER.bucketMs ? 0 : stepMs < HOUR_TIER.bucketMs ? 1 : 2;
  // Finer data older than its retention is gone: use the finest tier that still covers `from`.
  if (tier === 0 && fromMs < nowMs - retention.raw) tier = 1;
  if (tier === 1 && fromMs < nowMs - retention.minute) tier = 2;
  const resolution = (['raw', 'minute', 'hour'] as const)[tier];
  const retainedFromMs = nowMs - [retention.raw, retention.minute, retention.hour][tier]!;
  return { metricIndex: index, fromMs, toMs, stepMs, resolution, tier, retainedFromMs };
}

/** Turns the decoded rows of the planned tier into the response's points. */
export function answerTelemetryQuery(plan: TelemetryQueryPlan, rows: BlockRow[]): TelemetryQueryResult {
  const metric = TELEMETRY_METRICS[plan.metricIndex]!;
  // A rollup row is at its bucket's start: a bucket that began before the retained window is left out whole.
  const oldestMs = Math.max(plan.fromMs, plan.retainedFromMs);
  const inRange = rows.filter((row) => row.atMs >= oldestMs && row.atMs <= plan.toMs).sort((a, b) => a.atMs - b.atMs);
  let points: TelemetryPoint[];
  let truncated = false;
  if (plan.tier === 0) {
    const samples = inRange.filter((row) => !Number.isNaN(row.values[plan.metricIndex]!));
    truncated = samples.length > MAX_RAW_POINTS;
    points = samples
      .slice(0, MAX_RAW_POINTS)
      .map((row) => ({ at: new Date(row.atMs).toISOString(), value: unscale(metric, row.values[plan.metricIndex]!) }));
  } else {
    points = mergeBuckets(plan, inRange);
  }
  return {
    metric: metric.name,
    resolution: plan.resolution,
    from: new Date(plan.fromMs).toISOString(),
    to: new Date(plan.toMs).toISOString(),
    stepSec: plan.stepMs / 1000,
    truncated,
    points,
  };
}

/** Merges rollup rows into step-wide points: min of mins, max of maxes, summed sums and counts. */
function mergeBuckets(plan: TelemetryQueryPlan, rows: BlockRow[]): TelemetryPoint[] {
  const metric = TELEMETRY_METRICS[plan.metricIndex]!;
  const base = plan.metricIndex * ROLLUP_FIELDS;
  const points = new Map<number, { min: number; max: number; sum: number; count: number }>();
  for (const row of rows) {
    const count = row.values[base + 3]!;
    if (Number.isNaN(count) || count === 0) continue;
    const atMs = Math.floor(row.atMs / plan.stepMs) * plan.stepMs;
    const point = points.get(atMs);
    const [min, max, sum] = [row.values[base]!, row.values[base + 1]!, row.values[base + 2]!];
    if (!point) points.set(atMs, { min, max, sum, count });
    else {
      point.min = Math.min(point.min, min);
      point.max = Math.max(point.max, max);
      point.sum += sum;
      point.count += count;
    }
  }
  return [...points].map(([atMs, p]) => ({
    at: new Date(atMs).toISOString(),
    min: unscale(metric, p.min),
    mean: unscale(metric, p.sum / p.count),
    max: unscale(metric, p.max),
    count: p.count,
  }));
}
