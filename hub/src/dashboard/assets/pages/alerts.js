// Alerts (#/alerts?state=open|resolved): the list, newest first, each open one with an acknowledge button.
import { api, getOptional, query } from '../api.js';
import { badge, empty, h, num, section, table, when } from '../dom.js';

function subjectLink(alert) {
  if (alert.deviceId) return h('a', { href: `#/devices/${encodeURIComponent(alert.deviceId)}` }, alert.subject);
  const [kind, id] = alert.subject.split(':');
  if (kind === 'rollout') return h('a', { href: `#/rollouts/${encodeURIComponent(id)}` }, alert.subject);
  if (kind === 'campaign') return h('a', { href: `#/rounds/${encodeURIComponent(id)}` }, alert.subject);
  return alert.subject;
}

function ackButton(alert, rerender) {
  if (alert.acknowledgedAt) return `acknowledged by ${alert.acknowledgedBy ?? '?'}`;
  return h('button', {
    type: 'button', 'aria-label': `Acknowledge ${alert.rule} alert on ${alert.subject}`,
    onclick: async (event) => {
      event.target.disabled = true;
      await api('POST', `/v1/alerts/${encodeURIComponent(alert.id)}/ack`);
      rerender();
    },
  }, 'Acknowledge');
}

function stateTabs(current) {
  return h('nav', { class: 'ranges', 'aria-label': 'Alert state' },
    [['open', 'Open'], ['resolved', 'Resolved'], ['', 'All']].map(([state, label]) =>
      h('a', { href: `#/alerts${query({ state })}`, 'aria-current': state === current ? 'page' : null }, label)));
}

export const alertsPage = {
  title: 'Alerts',
  refreshOn: (name) => name.startsWith('alert.'),
  async render(params, rerender) {
    const state = params.state ?? 'open';
    const listed = await getOptional(`/v1/alerts${query({ state, limit: 200 })}`, null);
    if (listed === null) return section('Alerts', empty('Alerts are not available on this hub.'));
    return h('div', {},
      stateTabs(state),
      section(`Alerts (${listed.alerts.length})`, listed.alerts.length
        ? table('Alerts, newest first', [
          ['Rule', (a) => a.rule], ['Severity', (a) => badge(a.severity)], ['State', (a) => badge(a.state)],
          ['Subject', subjectLink], ['Message', (a) => a.message],
          ['Value', (a) => (a.value === null ? '—' : `${num(a.value, 2)} (threshold ${num(a.threshold, 2)})`)],
          ['Opened', (a) => when(a.openedAt)], ['Acknowledge', (a) => ackButton(a, rerender)],
        ], listed.alerts, (a) => ({ 'data-alert': a.id, 'data-rule': a.rule }))
        : empty(state === 'open' ? 'No open alerts.' : 'No alerts.')),
    );
  },
};
