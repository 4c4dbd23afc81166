// Rollouts (#/rollouts): each rollout with its waves as progress bars (devices healthy / failed of the wave's size).
// One rollout (#/rollouts/:id): its facts, pause / resume / abort, the waves with their thresholds, and every
// device target with its state, self-test against its baseline, shadow statistics and the reason it failed.
import { api, get } from '../api.js';
import { badge, empty, facts, h, num, percent, section, table, when } from '../dom.js';

/** A code and a reason as separate text nodes: a device's bidi controls in one cannot reorder the other. */
function codeAndReason({ errorCode, reason }) {
  return [errorCode, errorCode && reason ? ' ' : null, reason];
}

function wave(w) {
  const settled = w.healthy + w.failed;
  return h('li', { class: 'wave', 'data-wave': w.number },
    h('progress', { max: Math.max(w.size, 1), value: settled, 'aria-label': `wave ${w.number}: ${settled} of ${w.size} devices settled` }),
    h('span', {}, `Wave ${w.number} `, badge(w.state), ` ${w.healthy} healthy, ${w.failed} failed of ${w.size}`,
      w.percent !== null ? ` (${w.percent} %)` : ''));
}

function rolloutLink(r) {
  return h('a', { href: `#/rollouts/${encodeURIComponent(r.id)}` }, `${r.modelName} v${r.version} → ${r.selector || 'all devices'}`);
}

function rollout(r) {
  return h('article', { class: 'card', 'data-rollout': r.id, 'aria-label': `rollout ${r.id}` },
    h('h3', {}, rolloutLink(r), ' ', badge(r.state)),
    h('p', {}, `${r.format} · ${r.encoding} · ${r.counts.total} devices · created `, when(r.createdAt)),
    r.reason ? h('p', { class: 'error' }, codeAndReason(r)) : null,
    h('ol', { class: 'waves', 'aria-label': 'Waves' }, r.waves.map(wave)));
}

export const rolloutsPage = {
  title: 'Rollouts',
  refreshOn: (name) => name.startsWith('rollout.'),
  async render() {
    const rollouts = await get('/v1/rollouts?limit=50');
    return section('Rollouts', rollouts.length ? rollouts.map(rollout) : empty('No rollout yet.'));
  },
};

/** The operator actions a rollout in `state` accepts (hub/src/rollouts/rollout-transitions.ts). */
const ACTIONS = { running: ['pause', 'abort'], paused: ['resume', 'abort'] };

function actionButtons(r, rerender) {
  const status = h('span', { role: 'status', class: 'action-status' });
  const buttons = (ACTIONS[r.state] ?? []).map((action) => h('button', {
    type: 'button', 'data-action': action,
    onclick: async (event) => {
      if (action === 'abort' && !window.confirm('Abort this rollout? Every device it changed goes back to its previous version.')) return;
      event.target.disabled = true;
      try {
        await api('POST', `/v1/rollouts/${encodeURIComponent(r.id)}/${action}`, {});
        rerender();
      } catch (error) {
        status.textContent = `${error.code ?? 'error'}: ${error.message}`;
        event.target.disabled = false;
      }
    },
  }, action[0].toUpperCase() + action.slice(1)));
  return buttons.length ? h('div', { class: 'actions', 'aria-label': 'Rollout actions' }, buttons, status) : null;
}

function waveRow(w) {
  const stage = [w.shadow ? `shadow ≥ ${w.shadow.minInferences} inferences, drop ≤ ${w.shadow.maxAccuracyDropPts} pts` : null,
    w.soakSec ? `soak ${w.soakSec} s` : null].filter(Boolean).join(', ');
  return { ...w, stage };
}

function selfTest(t) {
  if (!t.selfTest) return '—';
  const base = t.baseline ? ` (was ${percent(t.baseline.accuracy)})` : '';
  return `${percent(t.selfTest.accuracy)}${base}, p95 ${num(t.selfTest.p95Ms)} ms`;
}

function shadow(t) {
  if (!t.shadow) return '—';
  const s = t.shadow;
  return `${s.inferences} inferences, ${percent(s.inferences ? s.agreements / s.inferences : null)} agree`;
}

export const rolloutPage = {
  title: 'Rollout',
  refreshOn: (name, payload, params) => name.startsWith('rollout.') && payload?.rolloutId === params.id,
  async render(params, rerender) {
    const r = await get(`/v1/rollouts/${encodeURIComponent(params.id)}`);
    return h('div', { 'data-rollout': r.id },
      section(`${r.modelName} v${r.version} → ${r.selector || 'all devices'}`,
        h('p', {}, badge(r.state), r.reason ? h('span', { class: 'error' }, ' ', codeAndReason(r)) : null),
        actionButtons(r, rerender),
        facts('Rollout', [
          ['Format', `${r.format} · ${r.encoding}`], ['Devices', `${r.counts.total}`],
          ['Health gate', `accuracy drop ≤ ${r.gate.maxAccuracyDropPts} pts, latency ≤ ${r.gate.maxLatencyFactor}×`],
          ['Device timeout', `${r.deviceTimeoutSec} s`], ['Continuous', r.continuous ? 'yes (devices joining the group get it)' : 'no'],
          ['Created', when(r.createdAt)], ['Updated', when(r.updatedAt)], ['Finished', when(r.finishedAt)],
        ])),
      section('Waves', h('ol', { class: 'waves', 'aria-label': 'Waves' }, r.waves.map(wave)),
        table('Wave thresholds', [
          ['Wave', (w) => String(w.number)], ['Size', (w) => String(w.size)],
          ['Pass at healthy ≥', (w) => percent(w.successThreshold, 0)], ['Abort at failed >', (w) => percent(w.errorThreshold, 0)],
          ['Stage', (w) => w.stage || '—'], ['State', (w) => badge(w.state)],
        ], r.waves.map(waveRow))),
      section(`Devices (${r.targets.length})`, r.targets.length ? table('Devices', [
        ['Device', (t) => h('a', { href: `#/devices/${encodeURIComponent(t.deviceId)}` }, t.deviceName ?? t.deviceId)],
        ['Wave', (t) => String(t.wave)], ['Mode', (t) => t.mode], ['State', (t) => badge(t.state)],
        ['Verdict', (t) => (t.verdict ? badge(t.verdict) : '—')], ['Self-test', selfTest], ['Shadow', shadow],
        ['Reason', (t) => (t.errorCode || t.reason ? codeAndReason(t) : '—')], ['Updated', (t) => when(t.updatedAt)],
      ], r.targets, (t) => ({ 'data-device': t.deviceId })) : empty('No device matched the selector yet.')),
    );
  },
};
