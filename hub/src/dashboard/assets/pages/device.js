// Device detail (#/devices/<id>): status, health with reasons, serving version, and time-series charts of its
// telemetry history (GET /v1/devices/:id/telemetry) and model quality (GET /v1/devices/:id/quality).
import { get, getOptional, query } from '../api.js';
import { lineChart, telemetryColumns } from '../chart.js';
import { badge, empty, facts, h, num, section, when } from '../dom.js';
import { versionName } from './devices.js';

const RANGES_SEC = { '15m': 900, '1h': 3600, '6h': 21_600, '24h': 86_400, '7d': 604_800 };
const MIB = 1024 * 1024;

function series(id, metric, rangeSec) {
  const from = new Date(Date.now() - rangeSec * 1000).toISOString();
  return get(`/v1/devices/${encodeURIComponent(id)}/telemetry${query({ metric, from })}`);
}

/** Memory in use = total − free, matched sample by sample (both columns come from the same Telemetry). */
function memoryUsed(total, free) {
  const freeAt = new Map(free.points.map((p) => [p.at, p.value ?? p.mean]));
  return { ...total, points: total.points.map((p) => ({ at: p.at, value: (p.value ?? p.mean) - (freeAt.get(p.at) ?? Number.NaN) })) };
}

function telemetryChart(id, title, yLabel, parts) {
  const { x, range } = parts[0].columns;
  return lineChart({ id, title, x, yLabel, xRange: range, series: parts.map((p) => ({ label: p.label, values: p.columns.values })) });
}

function qualityCharts(quality) {
  if (!quality || !quality.versions.length) return empty('No accuracy samples from federated evaluation, self-tests or feedback yet.');
  return quality.versions.map((v) => {
    const name = v.version === null ? v.versionId : `v${v.version}`;
    const sources = new Set(v.samples.map((s) => s.source));
    const x = v.samples.map((s) => Date.parse(s.at) / 1000);
    const seriesList = [...sources].map((source) => ({
      label: source, values: v.samples.map((s) => (s.source === source ? s.accuracy * 100 : null)),
    }));
    return h('div', {},
      lineChart({ id: `quality-${v.versionId}`, title: `Accuracy of ${name} (%)`, x, yLabel: '%', series: seriesList }),
      h('p', {}, 'Baseline: ', v.baseline ? `${(v.baseline.accuracy * 100).toFixed(1)} % (${v.baseline.source})` : 'none yet'));
  });
}

function rangePicker(id, current) {
  return h('nav', { class: 'ranges', 'aria-label': 'Time range' },
    Object.keys(RANGES_SEC).map((r) => h('a', { href: `#/devices/${encodeURIComponent(id)}?range=${r}`, 'aria-current': r === current ? 'page' : null }, r)));
}

export const devicePage = {
  title: 'Device',
  refreshOn: (name, payload, params) => payload?.deviceId === params.id || payload?.alert?.deviceId === params.id,
  async render(params) {
    const id = params.id;
    const range = RANGES_SEC[params.range] ? params.range : '1h';
    const rangeSec = RANGES_SEC[range];
    const metrics = ['cpuPercent', 'memTotalBytes', 'memFreeBytes', 'temperatureC', 'localAccuracy', 'inferenceP50Ms', 'inferenceP95Ms'];
    const [device, quality, ...history] = await Promise.all([
      get(`/v1/devices/${encodeURIComponent(id)}`),
      getOptional(`/v1/devices/${encodeURIComponent(id)}/quality`, null),
      ...metrics.map((m) => series(id, m, rangeSec)),
    ]);
    const [cpu, memTotal, memFree, temperature, accuracy, p50, p95] = history;
    const t = device.telemetry;
    return h('div', {},
      h('h2', {}, device.name, ' ', badge(device.status), ' ', device.health ? badge(device.health.status) : ''),
      device.health?.reasons.length ? h('ul', { class: 'reasons', 'aria-label': 'Why it is not healthy' }, device.health.reasons.map((r) => h('li', {}, r))) : null,
      facts('Device', [
        ['Id', device.id], ['Profile', [device.profile.kind, ' (', device.profile.arch || 'arch ?', ')']],
        ['Labels', Object.entries(device.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '—'],
        ['Serving', versionName(device)], ['Agent', device.agentVersion ?? '—'], ['Last seen', when(device.lastSeen)],
        ['CPU', `${num(t?.cpuPercent)} %`], ['Temperature', `${num(t?.temperatureC)} °C`],
      ]),
      rangePicker(id, range),
      section('Telemetry',
        h('div', { class: 'charts' },
          telemetryChart('cpuPercent', 'CPU (%)', '%', [{ label: 'CPU %', columns: telemetryColumns(cpu) }]),
          telemetryChart('memory', 'Memory used (MiB)', 'MiB', [{ label: 'used', columns: telemetryColumns(memoryUsed(memTotal, memFree), (v) => v / MIB) }]),
          telemetryChart('temperatureC', 'Temperature (°C)', '°C', [{ label: '°C', columns: telemetryColumns(temperature) }]),
          telemetryChart('localAccuracy', 'Local accuracy (%)', '%', [{ label: 'accuracy', columns: telemetryColumns(accuracy, (v) => v * 100) }]),
          telemetryChart('latency', 'Inference latency (ms)', 'ms', [
            { label: 'p50', columns: telemetryColumns(p50) }, { label: 'p95', columns: telemetryColumns(p95) },
          ]))),
      section('Model quality',
        quality?.inputDrift
          ? h('p', { class: 'drift' }, `Input drift: PSI ${quality.inputDrift.psi.toFixed(3)}, KS ${quality.inputDrift.ks.toFixed(3)} on ${quality.inputDrift.examples} inputs`)
          : null,
        h('div', { class: 'charts' }, qualityCharts(quality))),
    );
  },
};
