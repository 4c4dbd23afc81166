// Models (#/models) and a model's lineage (#/models/<id>): which round of which campaign produced each version,
// from which parent version.
import { get } from '../api.js';
import { empty, h, percent, section, table, when } from '../dom.js';

export const modelsPage = {
  title: 'Models',
  refreshOn: (name) => name === 'round.committed',
  async render() {
    const models = await get('/v1/models');
    return section('Models', models.length
      ? table('Models', [
        ['Name', (m) => h('a', { href: `#/models/${encodeURIComponent(m.id)}` }, m.name)],
        ['Architecture', (m) => m.architecture], ['Parameters', (m) => m.paramCount.toLocaleString()],
        ['Latest', (m) => `v${m.latestVersion}`], ['Created', (m) => when(m.createdAt)],
      ], models)
      : empty('No model yet.'));
  },
};

function origin(version, byId) {
  const parent = version.parentVersionId ? byId.get(version.parentVersionId) : null;
  const from = parent ? `from v${parent.version}` : version.parentVersionId ? `from ${version.parentVersionId}` : 'no parent';
  if (version.source !== 'round') return `${version.source}, ${from}`;
  const campaign = version.campaignId ? h('a', { href: `#/rounds/${encodeURIComponent(version.campaignId)}` }, `campaign ${version.campaignId}`) : 'a campaign';
  const round = typeof version.metrics?.round === 'number' ? `round ${version.metrics.round}` : `round ${version.roundId ?? '?'}`;
  return h('span', { title: version.roundId ?? '' }, `${round} of `, campaign, `, ${from}`);
}

/** Versions as a tree: each under the parent it was trained from. */
function lineageTree(versions, byId) {
  const children = new Map();
  for (const v of versions) {
    const parent = v.parentVersionId && byId.has(v.parentVersionId) ? v.parentVersionId : null;
    children.set(parent, [...(children.get(parent) ?? []), v]);
  }
  const branch = (parent) => {
    const kids = children.get(parent) ?? [];
    return kids.length ? h('ul', {}, kids.map((v) => h('li', { 'data-version': v.version },
      h('strong', {}, `v${v.version}`), ' — ', origin(v, byId),
      typeof v.metrics?.accuracy === 'number' ? ` · accuracy ${percent(v.metrics.accuracy)}` : '',
      branch(v.id)))) : null;
  };
  return h('nav', { class: 'lineage', 'aria-label': 'Version lineage' }, branch(null));
}

export const modelPage = {
  title: 'Model',
  refreshOn: (name) => name === 'round.committed',
  async render(params) {
    const model = await get(`/v1/models/${encodeURIComponent(params.id)}`);
    const byId = new Map(model.versions.map((v) => [v.id, v]));
    return h('div', {},
      h('h2', {}, `${model.name} (${model.architecture})`),
      h('p', {}, model.description || ''),
      section('Lineage', lineageTree(model.versions, byId)),
      section('Versions', table('Versions', [
        ['Version', (v) => `v${v.version}`], ['Origin', (v) => origin(v, byId)],
        ['Format', (v) => `${v.format} · ${v.encoding}`], ['Size', (v) => `${(v.sizeBytes / 1024).toFixed(1)} KiB`],
        ['Accuracy', (v) => (typeof v.metrics?.accuracy === 'number' ? percent(v.metrics.accuracy) : '—')],
        ['Created', (v) => when(v.createdAt)],
      ], model.versions)),
    );
  },
};
