/** `fedfleet fleet health`: device counts by status and by label. */
import type { FleetHealth } from '../../fleet/schemas.js';
import { CLIENT_OPTIONS, parse } from '../args.js';
import { usageError } from '../cli-error.js';
import { createHubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { formatTable } from '../table.js';

export const FLEET_USAGE = `Usage:
  fedfleet fleet health [--json]

Common options: --hub <url>, --token <admin token> (see fedfleet devices --help).
`;

export async function runFleetCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, CLIENT_OPTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(FLEET_USAGE);
    return values.help ? 0 : 2;
  }
  if (action !== 'health') throw usageError(`unknown fleet command ${JSON.stringify(action)}\n${FLEET_USAGE}`);
  if (rest.length > 0) throw usageError(`unexpected argument ${rest[0]}`);
  const health = await createHubClient(values, io).request<FleetHealth>('GET', '/v1/fleet/health');
  if (values.json) return printJson(io, health), 0;
  println(io.stdout, `${health.total} device${health.total === 1 ? '' : 's'}: ${health.byStatus.online} online, ${health.byStatus.offline} offline`);
  const labels = Object.entries(health.byLabel);
  if (labels.length > 0) {
    println(io.stdout);
    println(io.stdout, formatTable(['LABEL', 'ONLINE', 'OFFLINE'], labels.map(([label, counts]) => [label, counts.online, counts.offline])));
  }
  return 0;
}
