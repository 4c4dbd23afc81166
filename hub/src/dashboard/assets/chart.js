// Line charts with uPlot (https://github.com/leeoniya/uPlot), served by the hub from its own node_modules at
// /dashboard/vendor/ (hub/src/dashboard/dashboard-assets.ts). index.html loads its browser build as a classic
// script, which defines the global `uPlot`: a module import of a file that exists only on the server would be a
// load no import graph can follow (hub/test/boundaries.test.ts).
import { h } from './dom.js';

const COLOURS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed'];
const HEIGHT_PX = 180;

/**
 * A chart figure: `x` the x values (epoch seconds when `time`), `series` [{ label, values }] with null for gaps,
 * `xRange` [min, max] of the x axis (default: the data's).
 * The figure carries `data-points` (points with a value) so its emptiness is visible to tests and assistive tech
 * alike; the caption says what it shows and how many points.
 */
export function lineChart({ id, title, x, series, time = true, xLabel = '', yLabel = '', xRange = null }) {
  const points = series.reduce((sum, s) => sum + s.values.filter((v) => v !== null && v !== undefined).length, 0);
  const target = h('div', { class: 'chart-canvas', role: 'img', 'aria-label': `${title}: ${points} points` });
  const figure = h('figure', { class: 'chart', 'data-chart': id, 'data-points': points },
    h('figcaption', {}, title, h('span', { class: 'chart-count' }, points ? ` (${points} points)` : ' — no data yet')),
    target);
  if (!points) return figure;
  requestAnimationFrame(() => {
    const UPlot = globalThis.uPlot;
    if (!target.isConnected || !UPlot) return;
    const width = Math.max(target.clientWidth, 240);
    const plot = new UPlot({
      width, height: HEIGHT_PX,
      // The window asked for (a telemetry range), else the data's: uPlot would widen a lone point to a day.
      scales: { x: { time, range: () => xRange ?? dataRange(x, time ? 300 : 1) } },
      // Round numbers are integers: ticks at whole steps only.
      axes: [time ? { label: xLabel } : { label: xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500], values: (u, ticks) => ticks.map(String) }, { label: yLabel }],
      series: [{ label: xLabel || 'x' }, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: x.length < 40 } }))],
    }, [x, ...series.map((s) => s.values)], target);
    figure.uplot = plot;
    figure.setAttribute('data-rendered', 'true');
    new ResizeObserver(() => plot.setSize({ width: Math.max(target.clientWidth, 240), height: HEIGHT_PX })).observe(target);
  });
  return figure;
}

/** [first, last] of sorted `x`, with `padding` either side of a lone point. */
function dataRange(x, padding) {
  const [first, last] = [x[0], x[x.length - 1]];
  return first === last ? [first - padding, last + padding] : [first, last];
}

/** A telemetry series of `GET /v1/devices/:id/telemetry` (raw `value` or rollup `mean`) as chart columns and its range. */
export function telemetryColumns(series, scale = (v) => v) {
  const x = series.points.map((p) => Date.parse(p.at) / 1000);
  const values = series.points.map((p) => {
    const v = p.value ?? p.mean;
    return v === undefined || v === null ? null : scale(v);
  });
  // The range asked for, starting at the first sample when the history is shorter (a new device), at least a minute.
  const toSec = Date.parse(series.to) / 1000;
  const fromSec = Math.min(Math.max(Date.parse(series.from) / 1000, x[0] ?? -Infinity), toSec - 60);
  return { x, values, range: [fromSec, toSec] };
}
