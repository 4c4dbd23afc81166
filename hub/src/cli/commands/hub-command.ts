/** `fedfleet hub`: runs the hub (HTTP API + embedded MQTT broker + SQLite) until SIGINT/SIGTERM. */
import { buildHub } from '../../build-hub.js';
import { CONFIG_SOURCES, loadConfig, type HubConfigKey } from '../../config.js';
import { HUB_VERSION } from '../../version.js';
import { parse, type OptionsSpec } from '../args.js';
import { println, type CliIo } from '../io.js';

const CONFIG_KEYS = Object.keys(CONFIG_SOURCES) as HubConfigKey[];
// Every config key has a flag; secrets are deliberately not one (they would show in `ps`).
const FLAG_KEYS = CONFIG_KEYS.filter((key) => key !== 'adminToken' && key !== 'brokerPassword');

const OPTIONS: OptionsSpec = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  ...Object.fromEntries(FLAG_KEYS.map((key) => [CONFIG_SOURCES[key].flag.slice(2), { type: 'string' as const }])),
};

export const HUB_USAGE = `Usage: fedfleet hub [options]

Runs the hub: HTTP API (with OpenAPI docs at /docs), embedded MQTT broker and SQLite store.

Options (each also FEDFLEET_<NAME> in the environment, or a key in the --config JSON file):
${FLAG_KEYS.map((key) => `  ${CONFIG_SOURCES[key].flag.padEnd(30)} ${CONFIG_SOURCES[key].env}`).join('\n')}
  --config <file.json>           FEDFLEET_CONFIG
  FEDFLEET_ADMIN_TOKEN (environment only): the admin token; generated into <data-dir>/admin.token when unset.
  FEDFLEET_BROKER_PASSWORD (environment or config file only): the hub's password on an external --broker.
`;

export interface HubCommandOptions {
  /** Resolves when the hub should stop (default: on SIGINT or SIGTERM). */
  stopSignal?: Promise<string>;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A second signal while closing exits at once.
      const force = () => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runHubCommand(argv: string[], io: CliIo, options: HubCommandOptions = {}): Promise<number> {
  const { values } = parse(argv, OPTIONS, false);
  if (values.help) {
    io.stdout.write(HUB_USAGE);
    return 0;
  }
  const flags: Partial<Record<HubConfigKey, string>> = {};
  for (const key of FLAG_KEYS) {
    const value = values[CONFIG_SOURCES[key].flag.slice(2)];
    if (typeof value === 'string') flags[key] = value;
  }
  const config = loadConfig({ flags, env: io.env, configFile: values.config as string | undefined });
  const hub = buildHub(config);
  const stop = options.stopSignal ?? waitForSignal();
  try {
    const { httpUrl, mqttUrl, mqttWsUrl } = await hub.listen();
    const adminToken = hub.adminToken;
    println(io.stderr, `fedfleet hub ${HUB_VERSION}`);
    println(io.stderr, `  HTTP API     ${httpUrl}   (API docs: ${httpUrl}/docs)`);
    println(io.stderr, `  MQTT broker  ${mqttUrl}${mqttWsUrl ? `   (over WebSocket: ${mqttWsUrl})` : ''}`);
    println(io.stderr, `  data         ${config.dataDir}`);
    println(
      io.stderr,
      adminToken.source === 'config'
        ? '  admin token  from FEDFLEET_ADMIN_TOKEN'
        : `  admin token  ${adminToken.filePath}${adminToken.source === 'generated' ? ' (new)' : ''}`,
    );
    println(io.stderr, `Press Ctrl+C to stop.`);
  } catch (error) {
    await hub.close();
    throw error;
  }
  const signal = await stop;
  println(io.stderr, `${signal}: closing the hub…`);
  await hub.close();
  return 0;
}
