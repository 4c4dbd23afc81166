// Devices (#/devices?selector=&status=&health=): the list with a label selector and status/health filters.
import { get, query } from '../api.js';
import { badge, empty, h, num, section, table, when } from '../dom.js';

function select(name, label, value, options) {
  return h('label', {}, label,
    h('select', { name }, ['', ...options].map((o) => h('option', { value: o, selected: o === (value ?? '') }, o || 'any'))));
}

function filters(params) {
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter devices' },
    h('label', {}, 'Label selector',
      h('input', { name: 'selector', value: params.selector ?? '', placeholder: 'site=lab,!test', autocomplete: 'off' })),
    select('status', 'Status', params.status, ['online', 'offline']),
    select('health', 'Health', params.health, ['healthy', 'degraded', 'offline']),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    location.hash = `#/devices${query(data)}`;
  });
  return form;
}

export function versionName(device) {
  const active = device.registryVersions?.active;
  if (active) return `${active.model} v${active.version}`;
  return device.activeVersionId ?? '—';
}

export const devicesPage = {
  title: 'Devices',
  refreshOn: (name) => name.startsWith('device.') || name.startsWith('alert.'),
  async render(params) {
    const devices = await get(`/v1/devices${query({ selector: params.selector, status: params.status, health: params.health, limit: 1000 })}`);
    return h('div', {},
      filters(params),
      section(`Devices (${devices.length})`, devices.length
        ? table('Devices', [
          ['Name', (d) => h('a', { href: `#/devices/${encodeURIComponent(d.id)}` }, d.name)],
          ['Status', (d) => badge(d.status)],
          ['Health', (d) => (d.health ? h('span', { title: d.health.reasons.join('; ') }, badge(d.health.status)) : '—')],
          ['Labels', (d) => Object.entries(d.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '—'],
          ['Serving', versionName],
          ['CPU %', (d) => num(d.telemetry?.cpuPercent)],
          ['Last seen', (d) => when(d.lastSeen)],
        ], devices, (d) => ({ 'data-device': d.id, 'data-status': d.status }))
        : empty('No device matches.')),
    );
  },
};
