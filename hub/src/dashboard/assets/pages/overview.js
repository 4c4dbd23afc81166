// Overview (#/): device counts by status and health, open alerts, versions in service, counts by label.
import { get, getOptional } from '../api.js';
import { badge, empty, h, percent, section, table, tiles, when } from '../dom.js';

export const overviewPage = {
  title: 'Overview',
  refreshOn: (name) => name !== 'telemetry',
  async render() {
    const [fleet, alerts] = await Promise.all([get('/v1/fleet/health'), getOptional('/v1/alerts?state=open&limit=10', null)]);
    const health = fleet.health;
    const counts = [
      ['Devices', fleet.total],
      ['Online', fleet.byStatus.online, 'online'],
      ['Offline', fleet.byStatus.offline, 'offline'],
      ...(health ? [['Healthy', health.healthy, 'healthy'], ['Degraded', health.degraded, 'degraded']] : []),
      ...(fleet.openAlerts ? [['Open alerts', fleet.openAlerts.total, fleet.openAlerts.total ? 'alert' : undefined]] : []),
    ];
    const labels = Object.entries(fleet.byLabel ?? {});
    return h('div', {},
      tiles('Fleet counts', counts),
      section('Open alerts', alerts === null
        ? empty('Alerts are not available on this hub.')
        : alerts.alerts.length
          ? table('Newest open alerts', [
            ['Rule', (a) => a.rule], ['Severity', (a) => badge(a.severity)], ['Subject', (a) => a.subject],
            ['Message', (a) => a.message], ['Opened', (a) => when(a.openedAt)],
          ], alerts.alerts)
          : empty('No open alerts.'),
        h('p', {}, h('a', { href: '#/alerts' }, 'All alerts'))),
      section('Versions in service', fleet.byVersion?.length
        ? table('Devices by serving model version', [
          ['Model', (v) => v.modelId ?? '—'],
          ['Version', (v) => (v.versionId === null ? 'none' : v.version === null ? v.versionId : `v${v.version}`)],
          ['Devices', (v) => v.devices], ['Healthy', (v) => v.healthy], ['Degraded', (v) => v.degraded], ['Offline', (v) => v.offline],
          ['Mean accuracy', (v) => percent(v.meanAccuracy)],
        ], fleet.byVersion)
        : empty('No version information.')),
      section('By label', labels.length
        ? table('Devices by label', [
          ['Label', ([label]) => h('a', { href: `#/devices?selector=${encodeURIComponent(label)}` }, label)],
          ['Online', ([, c]) => c.online], ['Offline', ([, c]) => c.offline],
          ['Healthy', ([, c]) => c.healthy ?? '—'], ['Degraded', ([, c]) => c.degraded ?? '—'],
        ], labels)
        : empty('No labelled devices.')),
    );
  },
};
