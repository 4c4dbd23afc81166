// Rollouts (#/rollouts): each rollout with its waves as progress bars (devices healthy / failed of the wave's size).
import { get } from '../api.js';
import { badge, empty, h, section, when } from '../dom.js';

function wave(w) {
  const settled = w.healthy + w.failed;
  return h('li', { class: 'wave', 'data-wave': w.number },
    h('progress', { max: Math.max(w.size, 1), value: settled, 'aria-label': `wave ${w.number}: ${settled} of ${w.size} devices settled` }),
    h('span', {}, `Wave ${w.number} `, badge(w.state), ` ${w.healthy} healthy, ${w.failed} failed of ${w.size}`,
      w.percent !== null ? ` (${w.percent} %)` : ''));
}

function rollout(r) {
  return h('article', { class: 'card', 'data-rollout': r.id, 'aria-label': `rollout ${r.id}` },
    h('h3', {}, `${r.modelName} v${r.version} → ${r.selector || 'all devices'} `, badge(r.state)),
    h('p', {}, `${r.format} · ${r.encoding} · ${r.counts.total} devices · created `, when(r.createdAt)),
    r.reason ? h('p', { class: 'error' }, `${r.errorCode ?? ''} ${r.reason}`) : null,
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
