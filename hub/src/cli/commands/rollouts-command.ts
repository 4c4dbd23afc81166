/** `fedfleet rollouts create|ls|show|watch|pause|resume|abort`: model versions to device groups, in waves. */
import { ROLLOUT_STATES } from '../../rollouts/rollout-state.js';
import type { RolloutDetailJson, RolloutJson } from '../../rollouts/schemas.js';
import { CLIENT_OPTIONS, parse } from '../args.js';
import { usageError } from '../cli-error.js';
import { createHubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { ROLLOUT_CREATE_OPTIONS, ROLLOUTS_CREATE_HELP, ROLLOUTS_CREATE_USAGE, rolloutRequestOf } from '../rollout-create-args.js';
import { printRollout, printRolloutList, rolloutVersion } from '../rollout-view.js';
import { watchRollout } from '../rollout-watch.js';
import { countOf } from '../table.js';

export const ROLLOUTS_USAGE = `Usage:
${ROLLOUTS_CREATE_USAGE}  fedfleet rollouts ls [--state ${ROLLOUT_STATES.join('|')}] [--json]
  fedfleet rollouts show <id> [--json]
  fedfleet rollouts watch <id> [--json]
  fedfleet rollouts pause|resume|abort <id> [--reason <text>] [--json]

${ROLLOUTS_CREATE_HELP}
watch: a progress bar per wave on a terminal, one line per change otherwise, until the rollout completes (exit 0),
aborts or is superseded (exit 1); with --json silent until then, and the rollout as it ended. create --watch: the
same for the rollout it created. abort: every device the rollout changed goes back to its previous version.
`;

const OPTIONS = {
  ...CLIENT_OPTIONS,
  ...ROLLOUT_CREATE_OPTIONS,
  state: { type: 'string' },
  reason: { type: 'string' },
} as const;

/** Flags that belong to one action only: anywhere else they would be silently ignored. */
const ONLY_WITH: Readonly<Record<string, readonly string[]>> = {
  ...Object.fromEntries(Object.keys(ROLLOUT_CREATE_OPTIONS).map((flag) => [flag, ['create']])),
  state: ['ls', 'list'],
  reason: ['pause', 'resume', 'abort'],
};

export async function runRolloutsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(ROLLOUTS_USAGE);
    return values.help ? 0 : 2;
  }
  for (const [flag, actions] of Object.entries(ONLY_WITH)) {
    if ((values as Record<string, unknown>)[flag] !== undefined && !actions.includes(action)) {
      throw usageError(`--${flag} goes with rollouts ${actions[0]}, not rollouts ${action}`);
    }
  }
  const id = (): string => {
    if (rest.length !== 1) throw usageError(`usage: fedfleet rollouts ${action} <id>`);
    return rest[0]!;
  };
  const client = createHubClient(values, io);
  switch (action) {
    case 'create': {
      if (rest.length !== 1) throw usageError(`usage:\n${ROLLOUTS_CREATE_USAGE}`);
      const request = rolloutRequestOf(rest[0]!, values);
      const rollout = await client.request<RolloutDetailJson>('POST', '/v1/rollouts', request);
      if (values.watch) return watchRollout(client, io, rollout.id, { json: values.json }); // its first line says what was created
      if (values.json) return printJson(io, rollout), 0;
      println(io.stdout, `rollout ${rollout.id}: ${rolloutVersion(rollout)} to ${countOf(rollout.counts.total, 'device')} in ${countOf(rollout.waves.length, 'wave')}`);
      return 0;
    }
    case 'ls':
    case 'list': {
      if (values.state !== undefined && !(ROLLOUT_STATES as readonly string[]).includes(values.state)) {
        throw usageError(`--state must be one of ${ROLLOUT_STATES.join(', ')}, got ${JSON.stringify(values.state)}`);
      }
      const rollouts = await client.request<RolloutJson[]>('GET', `/v1/rollouts${values.state ? `?state=${values.state}` : ''}`);
      if (values.json) return printJson(io, rollouts), 0;
      printRolloutList(io, rollouts);
      return 0;
    }
    case 'show': {
      const rollout = await client.request<RolloutDetailJson>('GET', `/v1/rollouts/${encodeURIComponent(id())}`);
      if (values.json) return printJson(io, rollout), 0;
      printRollout(io, rollout);
      return 0;
    }
    case 'watch':
      return watchRollout(client, io, id(), { json: values.json });
    case 'pause':
    case 'resume':
    case 'abort': {
      const body = values.reason === undefined ? {} : { reason: values.reason };
      const rollout = await client.request<RolloutDetailJson>('POST', `/v1/rollouts/${encodeURIComponent(id())}/${action}`, body);
      if (values.json) return printJson(io, rollout), 0;
      println(io.stdout, `rollout ${rollout.id} ${rollout.state}${action === 'abort' ? ': changed devices go back to their previous version' : ''}`);
      return 0;
    }
    default:
      throw usageError(`unknown rollouts command ${JSON.stringify(action)}\n${ROLLOUTS_USAGE}`);
  }
}
