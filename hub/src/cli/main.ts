/**
 * Entry point of the `fedfleet` CLI: dispatches to one module per subcommand and turns failures into
 * `error <CODE>: message` on stderr with a non-zero exit code.
 */
import { isHubError } from '../errors.js';
import { HUB_VERSION } from '../version.js';
import { CliError } from './cli-error.js';
import { processIo, println, type CliIo } from './io.js';

export const USAGE = `Usage: fedfleet <command> [options]

Commands:
  hub                         run the hub (HTTP API, embedded MQTT broker, SQLite)
  tokens create|ls|revoke     enrollment tokens
  devices ls|show|label|revoke|telemetry
                              the device registry, a device's telemetry as a chart
  fleet health [--watch]      fleet summary: status, health, open alerts, versions, labels
  alerts ls|ack               alerts the hub opened, and acknowledging them
  models ls|create|import|show|versions|quantize|export
                              the model registry
  datasets upload|ls|show     validation sets for hub-side evaluation
  rounds start|ls|show|watch|cancel
                              federated training campaigns
  rollouts create|ls|show|watch|pause|resume|abort
                              model versions to device groups, in waves gated on accuracy
  agent …                     run the on-device agent (see fedfleet agent --help)
  sim …                       run simulated microcontroller devices (see fedfleet sim --help)

Run fedfleet <command> --help for its options.
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

// Each command module is imported only when it runs: `hub` pulls in fastify, aedes and SQLite, `agent` and `sim`
// TensorFlow.js, and a client command like `devices ls` should start in a fraction of that time.
const COMMANDS: Record<string, () => Promise<Command>> = {
  hub: async () => (await import('./commands/hub-command.js')).runHubCommand,
  tokens: async () => (await import('./commands/tokens-command.js')).runTokensCommand,
  devices: async () => (await import('./commands/devices-command.js')).runDevicesCommand,
  fleet: async () => (await import('./commands/fleet-command.js')).runFleetCommand,
  alerts: async () => (await import('./commands/alerts-command.js')).runAlertsCommand,
  models: async () => (await import('./commands/models-command.js')).runModelsCommand,
  datasets: async () => (await import('./commands/datasets-command.js')).runDatasetsCommand,
  rounds: async () => (await import('./commands/rounds-command.js')).runRoundsCommand,
  rollouts: async () => (await import('./commands/rollouts-command.js')).runRolloutsCommand,
  agent: async () => (await import('./commands/delegated-command.js')).runAgentCommand,
  sim: async () => (await import('./commands/delegated-command.js')).runSimCommand,
};

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    println(io.stdout, HUB_VERSION);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!load) throw new CliError('HUB_ERR_CLI_USAGE', `unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return await (await load())(rest, io);
  } catch (error) {
    if (error instanceof CliError || isHubError(error)) {
      println(io.stderr, `error ${error.code}: ${error.message}`);
      return error.code === 'HUB_ERR_CLI_USAGE' ? 2 : 1;
    }
    println(io.stderr, `error HUB_ERR_INTERNAL: ${(error as Error)?.stack ?? String(error)}`);
    return 1;
  }
}
