/** `fedfleet devices ls|show|label|revoke|telemetry`: the device registry and each device's telemetry history. */
import type { DeviceJson } from '../../fleet/schemas.js';
import { isLabelKey, isLabelValue } from '../../fleet/labels.js';
import { CLIENT_OPTIONS, parse } from '../args.js';
import { usageError } from '../cli-error.js';
import { showDeviceTelemetry } from '../device-telemetry.js';
import { createHubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { ago, countOf, formatBytes, formatLabels, formatTable } from '../table.js';

export const DEVICES_USAGE = `Usage:
  fedfleet devices ls [--selector 'site=lab,tier!=x'] [--status online|offline] [--json]
  fedfleet devices show <id> [--json]
  fedfleet devices label <id> key=value key2- … [--json]     (key- removes a label)
  fedfleet devices revoke <id> [--json]
  fedfleet devices telemetry <id|name> [--metric cpu] [--since 1h] [--json]

telemetry: one metric over the last --since (90s, 30m, 24h, 7d) as a text chart. --metric: cpu (cpuPercent),
temp (temperatureC), mem (memory used %), p50/p95 (inferenceP50Ms/inferenceP95Ms), accuracy (localAccuracy),
disk (diskFreeBytes), rss (rssBytes), load (load1), battery (batteryPercent), or any metric of the telemetry API.

Selectors: k=v, k!=v, k (has k), !k (lacks k); commas mean AND.
Common options: --hub <url> (FEDFLEET_HUB, default http://127.0.0.1:8080), --token <admin token>
(FEDFLEET_ADMIN_TOKEN, else <--data-dir or ./data>/admin.token).
`;

const OPTIONS = {
  ...CLIENT_OPTIONS,
  selector: { type: 'string' },
  status: { type: 'string' },
  metric: { type: 'string' },
  since: { type: 'string' },
} as const;

const pct = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(0)}%`);

export async function runDevicesCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(DEVICES_USAGE);
    return values.help ? 0 : 2;
  }
  if ((values.metric !== undefined || values.since !== undefined) && action !== 'telemetry') {
    throw usageError(`--${values.metric !== undefined ? 'metric' : 'since'} goes with devices telemetry, not devices ${action}`);
  }
  const client = createHubClient(values, io);
  const requireId = (usage: string): string => {
    if (!rest[0]) throw usageError(`usage: ${usage}`);
    return encodeURIComponent(rest[0]);
  };
  switch (action) {
    case 'ls':
    case 'list': {
      if (values.status && values.status !== 'online' && values.status !== 'offline') {
        throw usageError('--status must be online or offline');
      }
      const query = new URLSearchParams({ limit: '10000' });
      if (values.selector) query.set('selector', values.selector);
      if (values.status) query.set('status', values.status);
      const devices = await client.request<DeviceJson[]>('GET', `/v1/devices?${query}`);
      if (values.json) return printJson(io, devices), 0;
      if (devices.length === 0) return println(io.stdout, 'no devices'), 0;
      const now = Date.now();
      println(io.stdout, formatTable(
        ['ID', 'NAME', 'STATUS', 'LAST SEEN', 'CPU', 'TEMP', 'SERVING', 'LABELS'],
        devices.map((d) => [
          d.id,
          d.name,
          d.status,
          ago(d.lastSeen, now),
          pct(d.telemetry?.cpuPercent),
          d.telemetry?.temperatureC === undefined ? '-' : `${d.telemetry.temperatureC.toFixed(1)}°C`,
          formatServing(d),
          formatLabels(d.labels),
        ]),
      ));
      return 0;
    }
    case 'show': {
      const device = await client.request<DeviceJson>('GET', `/v1/devices/${requireId('fedfleet devices show <id>')}`);
      if (values.json) return printJson(io, device), 0;
      printDevice(io, device);
      return 0;
    }
    case 'label': {
      const id = requireId('fedfleet devices label <id> key=value key2- …');
      const set: Record<string, string> = {};
      const remove: string[] = [];
      for (const change of rest.slice(1)) {
        const eq = change.indexOf('=');
        if (eq > 0) {
          const key = change.slice(0, eq);
          const value = change.slice(eq + 1);
          if (!isLabelKey(key) || !isLabelValue(value)) throw usageError(`invalid label ${JSON.stringify(change)}`);
          set[key] = value;
        } else if (change.endsWith('-') && isLabelKey(change.slice(0, -1))) {
          remove.push(change.slice(0, -1));
        } else {
          throw usageError(`invalid label change ${JSON.stringify(change)} (use key=value to set, key- to remove)`);
        }
      }
      if (Object.keys(set).length === 0 && remove.length === 0) throw usageError('no label changes given (key=value sets, key- removes)');
      const device = await client.request<DeviceJson>('PATCH', `/v1/devices/${id}`, { labels: { set, remove } });
      if (values.json) return printJson(io, device), 0;
      println(io.stdout, `${device.id}  ${formatLabels(device.labels)}`);
      return 0;
    }
    case 'revoke': {
      const id = requireId('fedfleet devices revoke <id>');
      await client.request('DELETE', `/v1/devices/${id}`);
      if (values.json) return printJson(io, { id: decodeURIComponent(id), revoked: true }), 0;
      println(io.stdout, `revoked ${decodeURIComponent(id)}: credentials deleted, session closed`);
      return 0;
    }
    case 'telemetry':
      if (rest.length !== 1) throw usageError('usage: fedfleet devices telemetry <id|name> [--metric cpu] [--since 1h]');
      return showDeviceTelemetry(client, io, rest[0]!, values);
    default:
      throw usageError(`unknown devices command ${JSON.stringify(action)}\n${DEVICES_USAGE}`);
  }
}

type RegistryVersion = DeviceJson['registryVersions']['active'];

/** `mnist@v3` as the registry names a version; the id the device reported when the registry does not hold it. */
function versionName(named: RegistryVersion, versionId: string | null): string {
  return named ? `${named.model}@v${named.version}` : versionId ?? '-';
}

/** `devices ls`: what the device serves, and the challenger beside it during a shadow canary. */
export function formatServing(device: DeviceJson): string {
  const serving = versionName(device.registryVersions.active, device.activeVersionId);
  const shadow = device.shadowVersionId && versionName(device.registryVersions.shadow, device.shadowVersionId);
  return shadow ? `${serving} (shadow ${shadow})` : serving;
}

/** `devices show`: `mnist@v3 (version <id>)`, or the reported id alone when the registry does not hold it. */
function describeVersion(named: RegistryVersion, versionId: string | null): string {
  return named && versionId ? `${versionName(named, versionId)} (version ${versionId})` : versionId ?? '-';
}

/**
 * `rpi4, arm64, 4 cores @ 1500 MHz, RAM 4.0 GiB, flash 32 GiB, can train`. A device reports 0 for what it could
 * not measure (CPU speed in most containers and on many ARM boards): such a figure is left out, not shown as 0.
 */
export function formatProfile(profile: DeviceJson['profile']): string {
  const cpu = [profile.cores > 0 ? countOf(profile.cores, 'core') : '', profile.cpuMhz > 0 ? `${profile.cpuMhz} MHz` : ''].filter(Boolean).join(' @ ');
  return [
    profile.kind,
    profile.arch || '',
    cpu,
    profile.ramBytes > 0 ? `RAM ${formatBytes(profile.ramBytes)}` : '',
    profile.flashBytes > 0 ? `flash ${formatBytes(profile.flashBytes)}` : '',
    profile.int8Only ? 'int8 only' : '',
    profile.canTrain ? 'can train' : '',
  ].filter(Boolean).join(', ');
}

function printDevice(io: CliIo, device: DeviceJson): void {
  const t = device.telemetry;
  const rows: Array<[string, string]> = [
    ['id', device.id],
    ['name', device.name],
    ['status', device.status],
    ['last seen', device.lastSeen ? `${device.lastSeen} (${ago(device.lastSeen, Date.now())})` : 'never'],
    ['labels', formatLabels(device.labels)],
    ['agent', device.agentVersion ?? '-'],
    ['serving', describeVersion(device.registryVersions.active, device.activeVersionId)],
    ['payload sha256', device.activeSha256 ?? '-'],
    ['previous', describeVersion(device.registryVersions.previous, device.previousVersionId)],
    ['shadow', describeVersion(device.registryVersions.shadow, device.shadowVersionId)],
    ['profile', formatProfile(device.profile)],
    ['enrolled', device.createdAt],
  ];
  if (t) {
    rows.push(
      ['cpu', pct(t.cpuPercent)],
      ['memory', t.memTotalBytes ? `${formatBytes((t.memTotalBytes ?? 0) - (t.memFreeBytes ?? 0))} / ${formatBytes(t.memTotalBytes)} (agent RSS ${formatBytes(t.rssBytes)})` : '-'],
      ['temperature', t.temperatureC === undefined ? '-' : `${t.temperatureC.toFixed(1)} °C`],
      ['disk free', t.diskFreeBytes === undefined ? '-' : `${formatBytes(t.diskFreeBytes)} / ${formatBytes(t.diskTotalBytes)}`],
      ['battery', t.batteryPercent === undefined ? '-' : `${t.batteryPercent.toFixed(0)}%${t.charging ? ' (charging)' : ''}`],
      ['inferences', `${t.inferenceCount ?? 0}${t.inferenceP50Ms === undefined ? '' : `, p50 ${t.inferenceP50Ms.toFixed(1)} ms, p95 ${(t.inferenceP95Ms ?? 0).toFixed(1)} ms`}`],
      ['local accuracy', t.localAccuracy === undefined ? '-' : t.localAccuracy.toFixed(3)],
    );
  }
  const width = Math.max(...rows.map(([key]) => key.length));
  for (const [key, value] of rows) println(io.stdout, `${key.padEnd(width)}  ${value}`);
}
