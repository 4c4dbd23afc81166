/** `fedfleet fleet health [--watch]`: devices by status and health, open alerts, versions in service, by label. */
import { CLIENT_OPTIONS, parse } from '../args.js';
import { usageError } from '../cli-error.js';
import { watchFleetHealth } from '../fleet-health-watch.js';
import { createModelNames, printFleetHealth, type FleetHealthAnswer } from '../fleet-health-view.js';
import { createHubClient } from '../hub-client.js';
import { printJson, type CliIo } from '../io.js';

export const FLEET_USAGE = `Usage:
  fedfleet fleet health [--watch] [--json]

Devices by status and by health (healthy, degraded, offline), open alerts by rule, the model versions in service
(devices, health, mean accuracy) and counts per label. --watch: drawn again whenever the hub's events change it,
until Ctrl-C (with --json: one JSON line per change).
Common options: --hub <url>, --token <admin token> (see fedfleet devices --help).
`;

const OPTIONS = { ...CLIENT_OPTIONS, watch: { type: 'boolean', default: false } } as const;

export async function runFleetCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(FLEET_USAGE);
    return values.help ? 0 : 2;
  }
  if (action !== 'health') throw usageError(`unknown fleet command ${JSON.stringify(action)}\n${FLEET_USAGE}`);
  if (rest.length > 0) throw usageError(`unexpected argument ${rest[0]}`);
  const client = createHubClient(values, io);
  if (values.watch) {
    const stop = new AbortController();
    const onInterrupt = () => stop.abort();
    process.once('SIGINT', onInterrupt);
    try {
      return await watchFleetHealth(client, io, { signal: stop.signal, json: values.json });
    } finally {
      process.off('SIGINT', onInterrupt);
    }
  }
  const health = await client.request<FleetHealthAnswer>('GET', '/v1/fleet/health');
  if (values.json) return printJson(io, health), 0;
  printFleetHealth(io, health, await createModelNames(client)(health));
  return 0;
}
