// Rounds (#/rounds): federated campaigns with their progress; a campaign (#/rounds/<id>) with accuracy per round.
import { get } from '../api.js';
import { lineChart } from '../chart.js';
import { badge, empty, h, num, percent, progress, section, table, when } from '../dom.js';

const isRoundEvent = (name) => name.startsWith('round.') || name.startsWith('campaign.');

export const roundsPage = {
  title: 'Rounds',
  refreshOn: isRoundEvent,
  async render() {
    const campaigns = await get('/v1/rounds?limit=100');
    return section('Federated campaigns', campaigns.length
      ? table('Campaigns, newest first', [
        ['Campaign', (c) => h('a', { href: `#/rounds/${encodeURIComponent(c.id)}` }, `${c.modelName} · ${c.id}`)],
        ['State', (c) => badge(c.state)],
        ['Rounds', (c) => progress('rounds', c.roundsDone, c.roundsTotal)],
        ['Latest accuracy', (c) => percent(c.accuracy.at(-1))],
        ['Started', (c) => when(c.createdAt)],
      ], campaigns)
      : empty('No campaign yet: start one with `fedfleet rounds start` or POST /v1/rounds.'));
  },
};

export const roundPage = {
  title: 'Campaign',
  refreshOn: isRoundEvent,
  async render(params) {
    const c = await get(`/v1/rounds/${encodeURIComponent(params.id)}`);
    const committed = c.rounds.filter((r) => r.state === 'committed');
    const x = committed.map((r) => r.number);
    const series = [{ label: 'federated eval', values: committed.map((r) => (r.accuracy === null ? null : r.accuracy * 100)) }];
    if (committed.some((r) => r.hubAccuracy !== null)) {
      series.push({ label: 'hub validation', values: committed.map((r) => (r.hubAccuracy === null ? null : r.hubAccuracy * 100)) });
    }
    return h('div', {},
      h('h2', {}, `${c.modelName} campaign `, badge(c.state)),
      c.error ? h('p', { class: 'error', role: 'alert' }, `${c.errorCode ?? ''} ${c.error}`) : null,
      progress('rounds committed', c.roundsDone, c.roundsTotal),
      lineChart({ id: 'round-accuracy', title: 'Accuracy per round (%)', x, series, time: false, xLabel: 'round', yLabel: '%' }),
      section('Rounds', c.rounds.length
        ? table('Rounds of the campaign', [
          ['Round', (r) => r.number], ['State', (r) => badge(r.state)],
          ['Selected', (r) => r.selected], ['Updates', (r) => `${r.updates}/${r.minClients} min`],
          ['Accuracy', (r) => percent(r.accuracy)], ['Loss', (r) => num(r.loss, 3)],
          ['Result version', (r) => (r.resultVersionId ? h('a', { href: `#/models/${encodeURIComponent(c.modelId)}` }, r.resultVersionId) : '—')],
          ['Duration', (r) => (r.durationMs === null ? '—' : `${(r.durationMs / 1000).toFixed(1)} s`)],
        ], c.rounds, (r) => ({ 'data-round': r.number }))
        : empty('No round started yet.')),
    );
  },
};
