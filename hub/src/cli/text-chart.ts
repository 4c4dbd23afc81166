/**
 * A small bar chart of a time series for a terminal (`fedfleet devices telemetry`): the range is cut into one column
 * per character, each column's bar is the mean of the samples in it, drawn with the eighth blocks of Unicode's Block
 * Elements (U+2581…U+2588) so 8 rows resolve 64 levels. The y axis is labelled with the series' minimum (bottom row)
 * and maximum (top row), the x axis with the range's start, middle and end. A column without samples stays blank, so
 * gaps (a device offline) show as gaps. Pure: same input, same characters.
 */

export interface ChartPoint {
  atMs: number;
  value: number;
}

export interface ChartOptions {
  /** Start and end of the x axis (the query's range), epoch ms. */
  fromMs: number;
  toMs: number;
  /** Columns of the plot area (without the y labels). Default 60. */
  widthCols?: number;
  /** Rows of the plot area. Default 8. */
  heightRows?: number;
  /** A y label from a value. Default: up to 2 decimals, trailing zeros dropped. */
  formatValue?: (value: number) => string;
  /** An x label from a time. Default: `HH:MM` in UTC. */
  formatTime?: (ms: number) => string;
}

/** ▁ … █: index n is a cell filled n/8 from the bottom (0: empty). */
const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

export const formatChartValue = (value: number): string => String(Number(value.toFixed(2)));

const hhmmUtc = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

/** Mean of the points falling in each of `widthCols` equal slices of [fromMs, toMs]; null where none fell. */
export function bucketMeans(points: readonly ChartPoint[], fromMs: number, toMs: number, widthCols: number): Array<number | null> {
  const sums = new Float64Array(widthCols);
  const counts = new Uint32Array(widthCols);
  const spanMs = Math.max(1, toMs - fromMs);
  for (const { atMs, value } of points) {
    if (atMs < fromMs || atMs > toMs || !Number.isFinite(value)) continue;
    const col = Math.min(widthCols - 1, Math.floor(((atMs - fromMs) / spanMs) * widthCols));
    sums[col] += value;
    counts[col]++;
  }
  return Array.from(sums, (sum, col) => (counts[col] === 0 ? null : sum / counts[col]!));
}

/**
 * The chart as lines of text, or `[]` when no point falls in the range (the caller says so in words). A constant
 * series is drawn at half height, its one value labelling both ends of the axis.
 */
export function renderChart(points: readonly ChartPoint[], options: ChartOptions): string[] {
  const widthCols = Math.max(1, Math.floor(options.widthCols ?? 60));
  const heightRows = Math.max(1, Math.floor(options.heightRows ?? 8));
  const formatValue = options.formatValue ?? formatChartValue;
  const formatTime = options.formatTime ?? hhmmUtc;
  const columns = bucketMeans(points, options.fromMs, options.toMs, widthCols);
  const present = columns.filter((v): v is number => v !== null);
  if (present.length === 0) return [];
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  const levels = heightRows * 8;
  // The minimum still shows (one eighth), so a column at the bottom of the range is told apart from a gap.
  const levelOf = (value: number) => (hi === lo ? levels / 2 : 1 + Math.round(((value - lo) / (hi - lo)) * (levels - 1)));
  const columnLevels = columns.map((value) => (value === null ? 0 : levelOf(value)));

  const top = formatValue(hi);
  const bottom = formatValue(lo);
  const labelWidth = Math.max(top.length, bottom.length);
  const lines: string[] = [];
  for (let row = heightRows - 1; row >= 0; row--) {
    const label = row === heightRows - 1 ? top : row === 0 ? bottom : '';
    const cells = columnLevels.map((level) => EIGHTHS[Math.max(0, Math.min(8, level - row * 8))]).join('');
    lines.push(`${label.padStart(labelWidth)} ${label ? '┤' : '│'}${cells}`.trimEnd());
  }
  lines.push(`${' '.repeat(labelWidth)} └${'─'.repeat(widthCols)}`);
  lines.push(`${' '.repeat(labelWidth + 2)}${timeAxis(options.fromMs, options.toMs, widthCols, formatTime)}`.trimEnd());
  return lines;
}

/** Start at the left edge, end at the right edge, the middle centred when all three fit with a space between. */
function timeAxis(fromMs: number, toMs: number, widthCols: number, formatTime: (ms: number) => string): string {
  const start = formatTime(fromMs);
  const end = formatTime(toMs);
  const middle = formatTime(fromMs + (toMs - fromMs) / 2);
  const axis = Array.from({ length: Math.max(widthCols, start.length + end.length + 1) }, () => ' ');
  const put = (text: string, at: number) => [...text].forEach((ch, i) => (axis[at + i] = ch));
  put(start, 0);
  put(end, axis.length - end.length);
  const middleAt = Math.round(axis.length / 2 - middle.length / 2);
  if (middleAt > start.length && middleAt + middle.length < axis.length - end.length) put(middle, middleAt);
  return axis.join('');
}
