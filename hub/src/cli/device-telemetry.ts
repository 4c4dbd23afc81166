/**
 * `fedfleet devices telemetry <id|name> [--metric cpu] [--since 1h]`: one metric of one device over a recent range,
 * from `GET /v1/devices/:id/telemetry` (hub/docs/http-api.md#telemetry-history), drawn as a text chart. The step
 * asks for about one point per chart column, so the hub answers raw samples for short ranges and minute or hour
 * rollups (their means are drawn) for long ones.
 */
import type { DeviceJson } from '../fleet/schemas.js';
import { TELEMETRY_METRIC_NAMES } from '../telemetry/telemetry-metrics.js';
import type { TelemetryPoint, TelemetryQueryResult } from '../telemetry/telemetry-query.js';
import { formatDurationSec, parseDurationSec } from './args.js';
import { CliError, usageError } from './cli-error.js';
import type { HubClient } from './hub-client.js';
import { printJson, println, type CliIo } from './io.js';
import { countOf, formatBytes } from './table.js';
import { formatChartValue, renderChart, type ChartPoint } from './text-chart.js';

/** The derived metric of `--metric mem`: (memTotalBytes − memFreeBytes) / memTotalBytes × 100. */
export const MEM_USED_PERCENT = 'memUsedPercent';

/** Short names on the command line; every full metric name of the API works too. */
export const METRIC_ALIASES: Readonly<Record<string, string>> = {
  cpu: 'cpuPercent',
  temp: 'temperatureC',
  mem: MEM_USED_PERCENT,
  p50: 'inferenceP50Ms',
  p95: 'inferenceP95Ms',
  accuracy: 'localAccuracy',
  disk: 'diskFreeBytes',
  rss: 'rssBytes',
  load: 'load1',
  battery: 'batteryPercent',
};

export const DEFAULT_METRIC = 'cpu';
export const DEFAULT_SINCE = '1h';
/** Plot columns when stdout is not a terminal (and the most on a wide one). */
const DEFAULT_WIDTH_COLS = 60;
const MAX_WIDTH_COLS = 120;
/** The hub's bounds on `step` (seconds). */
const MIN_STEP_SEC = 10;
const MAX_STEP_SEC = 2_678_400;

export function resolveMetric(text: string): string {
  const metric = METRIC_ALIASES[text] ?? text;
  if (metric !== MEM_USED_PERCENT && !(TELEMETRY_METRIC_NAMES as readonly string[]).includes(metric)) {
    const aliases = Object.entries(METRIC_ALIASES).map(([alias, name]) => `${alias} (${name})`).join(', ');
    throw usageError(`unknown metric ${JSON.stringify(text)}: use ${aliases}, or one of ${TELEMETRY_METRIC_NAMES.join(', ')}`);
  }
  return metric;
}

/** A y label in the metric's unit, read from its name (…Percent, …Bytes, …C, …Ms, …Sec). */
export function metricFormatter(metric: string): (value: number) => string {
  if (metric.endsWith('Percent')) return (v) => `${formatChartValue(v)}%`;
  if (metric.endsWith('Bytes')) return (v) => formatBytes(v);
  if (metric.endsWith('C')) return (v) => `${formatChartValue(v)}°C`;
  if (metric.endsWith('Ms')) return (v) => `${formatChartValue(v)} ms`;
  if (metric.endsWith('Sec')) return (v) => `${formatChartValue(v)} s`;
  if (metric === 'localAccuracy') return (v) => v.toFixed(3);
  return formatChartValue;
}

/** A raw sample's value, or a rollup point's mean. */
const valueOf = (point: TelemetryPoint): number => ('value' in point ? point.value : point.mean);

/** The device by id, else by its (unique) name. */
async function findDevice(client: HubClient, idOrName: string): Promise<DeviceJson> {
  try {
    return await client.request<DeviceJson>('GET', `/v1/devices/${encodeURIComponent(idOrName)}`);
  } catch (error) {
    if (!(error instanceof CliError && error.code === 'HUB_ERR_DEVICE_NOT_FOUND')) throw error;
  }
  const named = (await client.request<DeviceJson[]>('GET', '/v1/devices?limit=10000')).filter((d) => d.name === idOrName);
  if (named.length === 1) return named[0]!;
  if (named.length === 0) throw new CliError('HUB_ERR_DEVICE_NOT_FOUND', `no device with id or name ${JSON.stringify(idOrName)}`);
  throw usageError(`${named.length} devices are named ${JSON.stringify(idOrName)}: use an id (${named.map((d) => d.id).join(', ')})`);
}

/** `mem`: used % from the total and free series, sample by sample (rollups: from their means). */
function memUsedPercent(total: TelemetryQueryResult, free: TelemetryQueryResult): TelemetryQueryResult {
  const freeAt = new Map(free.points.map((p) => [p.at, valueOf(p)]));
  const points: TelemetryPoint[] = [];
  for (const p of total.points) {
    const totalBytes = valueOf(p);
    const freeBytes = freeAt.get(p.at);
    if (freeBytes === undefined || !(totalBytes > 0)) continue;
    points.push({ at: p.at, value: Number((((totalBytes - freeBytes) / totalBytes) * 100).toFixed(2)) });
  }
  return { ...total, metric: MEM_USED_PERCENT, truncated: total.truncated || free.truncated, points };
}

export interface DeviceTelemetryOptions {
  metric?: string;
  since?: string;
  json?: boolean;
}

export async function showDeviceTelemetry(client: HubClient, io: CliIo, idOrName: string, options: DeviceTelemetryOptions): Promise<number> {
  const metric = resolveMetric(options.metric ?? DEFAULT_METRIC);
  const sinceSec = parseDurationSec(options.since ?? DEFAULT_SINCE);
  if (sinceSec <= 0) throw usageError('--since must be longer than 0s');
  const device = await findDevice(client, idOrName);
  const widthCols = io.stdout.isTTY && io.stdout.columns ? Math.min(MAX_WIDTH_COLS, Math.max(20, io.stdout.columns - 14)) : DEFAULT_WIDTH_COLS;
  const toMs = Date.now();
  const fromMs = toMs - sinceSec * 1000;
  const stepSec = Math.min(MAX_STEP_SEC, Math.max(MIN_STEP_SEC, Math.ceil(sinceSec / widthCols)));
  const query = (name: string) => {
    const params = new URLSearchParams({ metric: name, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), step: String(stepSec) });
    return client.request<TelemetryQueryResult>('GET', `/v1/devices/${encodeURIComponent(device.id)}/telemetry?${params}`);
  };
  const series = metric === MEM_USED_PERCENT
    ? memUsedPercent(...(await Promise.all([query('memTotalBytes'), query('memFreeBytes')])))
    : await query(metric);
  if (options.json) return printJson(io, { deviceId: device.id, ...series }), 0;

  const points: ChartPoint[] = series.points.map((p) => ({ atMs: Date.parse(p.at), value: valueOf(p) }));
  const format = metricFormatter(metric);
  const per = series.resolution === 'raw' ? 'raw samples' : `${series.resolution} rollups, mean per ${formatDurationSec(series.stepSec)}`;
  println(io.stdout, `${device.name} (${device.id}) ${metric}, last ${formatDurationSec(sinceSec)}: ${countOf(points.length, 'point')} (${per})${series.truncated ? ', truncated' : ''}`);
  const dayMs = 86_400_000;
  // Ranges over a day need the date as well; times are UTC, as the API's.
  const formatTime = (ms: number) => new Date(ms).toISOString().slice(toMs - fromMs > dayMs ? 5 : 11, 16).replace('T', ' ');
  const chart = renderChart(points, { fromMs, toMs, widthCols, formatValue: format, formatTime });
  if (chart.length === 0) return println(io.stdout, 'no samples in this range'), 0;
  for (const line of chart) println(io.stdout, line);
  const last = points.at(-1)!;
  println(io.stdout, `times UTC; latest ${format(last.value)} at ${new Date(last.atMs).toISOString()}`);
  return 0;
}
