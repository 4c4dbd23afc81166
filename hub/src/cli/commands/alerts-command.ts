/** `fedfleet alerts ls|ack`: the hub's alerts (hub/docs/health.md), listed and acknowledged. */
import type { DeviceJson } from '../../fleet/schemas.js';
import { ALERT_RULES } from '../../health/alert-config.js';
import type { AlertJson } from '../../health/schemas.js';
import { CLIENT_OPTIONS, parse } from '../args.js';
import { usageError } from '../cli-error.js';
import { createHubClient, type HubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { ago, formatTable } from '../table.js';

const STATES = ['open', 'resolved', 'all'] as const;
/** The API's largest page. */
const LIST_LIMIT = 1000;

export const ALERTS_USAGE = `Usage:
  fedfleet alerts ls [--state ${STATES.join('|')}] [--rule <rule>] [--device <id|name>] [--json]
  fedfleet alerts ack <id> [--json]

ls: newest first, open ones by default. Rules: ${ALERT_RULES.slice(0, 5).join(', ')},
${ALERT_RULES.slice(5).join(', ')}.
ack: marks the alert seen (by admin); a device alert stays open until its condition clears, a rollout or campaign
alert is resolved by it.
Common options: --hub <url>, --token <admin token> (see fedfleet devices --help).
`;

const OPTIONS = {
  ...CLIENT_OPTIONS,
  state: { type: 'string' },
  rule: { type: 'string' },
  device: { type: 'string' },
} as const;

export async function runAlertsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(ALERTS_USAGE);
    return values.help ? 0 : 2;
  }
  switch (action) {
    case 'ls':
    case 'list': {
      if (rest.length > 0) throw usageError(`unexpected argument ${rest[0]}`);
      const state = values.state ?? 'open';
      if (!(STATES as readonly string[]).includes(state)) throw usageError(`--state must be one of ${STATES.join(', ')}, got ${JSON.stringify(state)}`);
      if (values.rule !== undefined && !(ALERT_RULES as readonly string[]).includes(values.rule)) {
        throw usageError(`--rule must be one of ${ALERT_RULES.join(', ')}, got ${JSON.stringify(values.rule)}`);
      }
      const client = createHubClient(values, io);
      const devices = await deviceNames(client);
      const query = new URLSearchParams({ limit: String(LIST_LIMIT) });
      if (state !== 'all') query.set('state', state);
      if (values.rule) query.set('rule', values.rule);
      if (values.device) query.set('deviceId', deviceIdOf(values.device, devices));
      const { alerts } = await client.request<{ alerts: AlertJson[] }>('GET', `/v1/alerts?${query}`);
      if (values.json) return printJson(io, alerts), 0;
      if (alerts.length === 0) return println(io.stdout, `no ${state === 'all' ? '' : `${state} `}alerts`), 0;
      const now = Date.now();
      println(io.stdout, formatTable(
        ['ID', 'RULE', 'SEVERITY', 'SUBJECT', 'STATE', 'OPENED', 'ACK', 'MESSAGE'],
        alerts.map((a) => [
          a.id,
          a.rule,
          a.severity,
          subjectOf(a, devices),
          a.state === 'resolved' ? `resolved ${ago(a.resolvedAt, now)}` : 'open',
          ago(a.openedAt, now),
          a.acknowledgedAt ? `${a.acknowledgedBy ?? 'yes'} ${ago(a.acknowledgedAt, now)}` : '-',
          a.message,
        ]),
      ));
      return 0;
    }
    case 'ack': {
      for (const flag of ['state', 'rule', 'device'] as const) {
        if (values[flag] !== undefined) throw usageError(`--${flag} goes with alerts ls, not alerts ack`);
      }
      if (rest.length !== 1) throw usageError('usage: fedfleet alerts ack <id>');
      const client = createHubClient(values, io);
      const alert = await client.request<AlertJson>('POST', `/v1/alerts/${encodeURIComponent(rest[0]!)}/ack`, {});
      if (values.json) return printJson(io, alert), 0;
      const devices = alert.deviceId ? await deviceNames(client) : new Map<string, string>();
      const still = alert.state === 'open' ? ', still open until its condition clears' : ', resolved';
      println(io.stdout, `alert ${alert.id} (${alert.rule} on ${subjectOf(alert, devices)}) acknowledged by ${alert.acknowledgedBy ?? 'admin'}${still}`);
      return 0;
    }
    default:
      throw usageError(`unknown alerts command ${JSON.stringify(action)}\n${ALERTS_USAGE}`);
  }
}

/** Device names by id, to show `sensor-7` rather than `device:dev-…`. */
async function deviceNames(client: HubClient): Promise<Map<string, string>> {
  const devices = await client.request<DeviceJson[]>('GET', '/v1/devices?limit=10000');
  return new Map(devices.map((d) => [d.id, d.name]));
}

/** `--device`: an id, or the name of exactly one device. */
function deviceIdOf(idOrName: string, names: ReadonlyMap<string, string>): string {
  if (names.has(idOrName)) return idOrName;
  const ids = [...names].filter(([, name]) => name === idOrName).map(([id]) => id);
  if (ids.length > 1) throw usageError(`${ids.length} devices are named ${JSON.stringify(idOrName)}: use an id (${ids.join(', ')})`);
  return ids[0] ?? idOrName; // an unknown id lists nothing, as the API answers
}

/** `sensor-7` for a device alert (its id when it is no longer enrolled), else the subject (`rollout:<id>`). */
function subjectOf(alert: AlertJson, names: ReadonlyMap<string, string>): string {
  if (!alert.deviceId) return alert.subject;
  return names.get(alert.deviceId) ?? alert.deviceId;
}
