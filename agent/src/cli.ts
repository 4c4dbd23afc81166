import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent } from './agent.js';
import { FileArtifactCache } from './artifact-cache.js';
import { FileCredentialStore } from './credentials.js';
import { parseLabels, validateAgentConfig, type AgentConfig } from './config.js';
import { AgentError } from './errors.js';
import { jsonLogger } from './logger.js';
import type { ModelStore } from './model-store/model-store.js';
import { detectProfile } from './profile.js';
import { startAgentServing, type AgentServing } from './serving/agent-serving.js';
import type { ServingSource } from './serving/inference-service.js';
import { DEFAULT_SERVE_PORT } from './serving/serving-server.js';
import { SystemTelemetry } from './telemetry.js';

const USAGE = `usage: fedfleet agent --hub <url> --token <enrollment token> --data-dir <dir> [options]

  --hub <url>            hub HTTP URL (env FEDFLEET_HUB); needed only to enroll
  --token <token>        enrollment token (env FEDFLEET_ENROLL_TOKEN); needed only on the first start
  --data-dir <dir>       credentials (mode 0600) and artifacts (env FEDFLEET_AGENT_DATA_DIR, default ./agent-data)
  --name <name>          device name (default: host name)
  --labels k=v,...       labels requested at enrollment (token labels win)
  --heartbeat-sec <n>    telemetry period in seconds (default: the hub's, 10)
  --keepalive-sec <n>    MQTT keepalive (default 15)
  --data <spec>          local training data: a sample folder or mnist:<iid|shards|dirichlet:a>:<i>/<n>
  --models-dir <dir>     the on-device model store (env FEDFLEET_AGENT_MODELS_DIR, default <data-dir>/models)
  --install-bundle <f>   install a bundle file (fedfleet models bundle) into the model store, print its self-test, exit
  --serve-port <n>       local inference endpoint on 127.0.0.1 (env FEDFLEET_SERVE_PORT, default 8431; 0 = any free port)
  --no-serve             no local inference endpoint
  --log-level <level>    debug | info | warn | error (default info)
  -h, --help             this text
`;

/** Reads flags and environment into a validated config. Exported for tests. */
export function agentConfigFromArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      hub: { type: 'string' },
      token: { type: 'string' },
      'data-dir': { type: 'string' },
      name: { type: 'string' },
      labels: { type: 'string' },
      'heartbeat-sec': { type: 'string' },
      'keepalive-sec': { type: 'string' },
      data: { type: 'string' },
      'models-dir': { type: 'string' },
      'install-bundle': { type: 'string' },
      'serve-port': { type: 'string' },
      'no-serve': { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new AgentError('AGENT_ERR_CONFIG', `\n${USAGE}`);
  const int = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  const dataDir = resolve(values['data-dir'] ?? env.FEDFLEET_AGENT_DATA_DIR ?? './agent-data');
  const raw: Record<string, unknown> = {
    hubUrl: values.hub ?? env.FEDFLEET_HUB,
    token: values.token ?? env.FEDFLEET_ENROLL_TOKEN,
    dataDir,
    modelsDir: resolve(values['models-dir'] ?? env.FEDFLEET_AGENT_MODELS_DIR ?? join(dataDir, 'models')),
    installBundle: values['install-bundle'],
    name: values.name ?? env.FEDFLEET_DEVICE_NAME ?? hostname(),
    heartbeatSec: int(values['heartbeat-sec'] ?? env.FEDFLEET_HEARTBEAT_SEC),
    keepaliveSec: int(values['keepalive-sec']) ?? 15,
    labels: parseLabels(values.labels ?? env.FEDFLEET_LABELS),
    data: values.data ?? env.FEDFLEET_AGENT_DATA,
    servePort: int(values['serve-port'] ?? env.FEDFLEET_SERVE_PORT) ?? DEFAULT_SERVE_PORT,
    serve: !values['no-serve'],
    logLevel: values['log-level'] ?? env.FEDFLEET_LOG_LEVEL ?? 'info',
  };
  for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];
  return validateAgentConfig(raw);
}

export interface AgentCommandOptions {
  /**
   * Folder holding the `tfjs-backend-wasm*.wasm` files. The bundled agent (`npm run build:agent`) passes its own
   * folder; the backend is then initialised at start, so missing wasm files show up at once in the log.
   */
  wasmDir?: string;
}

/** `fedfleet agent`: runs until SIGINT/SIGTERM; exit code 0 on a clean stop, 1 on a fatal error, 2 on usage errors. */
export async function runAgentCommand(argv: string[], options: AgentCommandOptions = {}): Promise<number> {
  if (argv.some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let config: AgentConfig;
  try {
    config = agentConfigFromArgs(argv);
  } catch (error) {
    process.stderr.write(`error ${(error as AgentError).code ?? 'AGENT_ERR_CONFIG'}: ${(error as Error).message}\n`);
    return 2;
  }
  const log = jsonLogger(config.logLevel, { component: 'agent' });
  const store = new FileCredentialStore(config.dataDir);
  const existing = await store.load().catch(() => undefined);
  if (!existing && (!config.hubUrl || !config.token)) {
    process.stderr.write(`error AGENT_ERR_NOT_ENROLLED: no credentials in ${config.dataDir}; pass --hub and --token to enroll\n`);
    return 2;
  }
  const { createTrainingCommands, dataSourceFromSpec, openAgentModelStore, runInstallBundle } = await import('./training-commands.js');
  let dataSource;
  try {
    dataSource = config.data ? await dataSourceFromSpec(config.data) : undefined;
  } catch (error) {
    process.stderr.write(`error ${(error as AgentError).code ?? 'AGENT_ERR_CONFIG'}: ${(error as Error).message}\n`);
    return 2;
  }
  if (options.wasmDir) {
    const { initBackend } = await import('./ml/index.js');
    try {
      const backend = await initBackend('auto', { wasmDir: options.wasmDir });
      if (backend === 'cpu') log.warn({ backend, wasmDir: options.wasmDir }, 'wasm backend unavailable (are the .wasm files next to the agent?): training will be slow');
      else log.info({ backend, wasmDir: options.wasmDir }, 'ml backend ready');
    } catch (error) {
      log.warn({ code: (error as AgentError).code, err: (error as Error).message, wasmDir: options.wasmDir }, 'no ml backend: training and evaluation will fail');
    }
  }
  const profile = await detectProfile(config.dataDir);
  const storeOptions = { dir: config.modelsDir, profile, dataSource, log };
  if (config.installBundle) return runInstallBundle(config.installBundle, existing, storeOptions);
  // The model store (agent/src/model-store) is what serves; it opens at start, once the hub key is known. Until a
  // version is active /predict answers 503 AGENT_ERR_NO_MODEL.
  let models: ModelStore | undefined;
  const servingSource: ServingSource = { active: () => models?.active(), shadow: () => models?.shadow() };
  let serving: AgentServing;
  try {
    serving = await startAgentServing(servingSource, config, log, dataSource ? () => dataSource.train() : undefined);
  } catch (error) {
    process.stderr.write(`error ${(error as AgentError).code}: ${(error as Error).message} (pass another --serve-port, or --no-serve)\n`);
    return 1;
  }
  const agent = new Agent({
    credentials: store,
    ...(config.hubUrl && config.token ? { enrollment: { hubUrl: config.hubUrl, token: config.token, name: config.name, labels: config.labels } } : {}),
    profile,
    ...(dataSource ? { trainExamples: dataSource.describe().trainCount } : {}),
    telemetry: new SystemTelemetry({ diskPath: config.dataDir }),
    ...(config.heartbeatSec ? { heartbeatSec: config.heartbeatSec } : {}),
    keepaliveSec: config.keepaliveSec,
    artifactCache: new FileArtifactCache(join(config.dataDir, 'artifacts')),
    commands: createTrainingCommands({ dataSource, profile }),
    inference: serving.service,
    modelStore: async (credentials) => (models = await openAgentModelStore({ ...storeOptions, publicKeyPem: credentials.hubPublicKey })),
    logger: log,
  });
  const done = new Promise<number>((resolveExit) => {
    agent.on('fatal', (error) => {
      process.stderr.write(`error ${error.code}: ${error.message}\n`);
      resolveExit(1);
    });
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      agent.stop(signal).then(() => resolveExit(0), () => resolveExit(1));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  try {
    await agent.start();
  } catch (error) {
    process.stderr.write(`error ${(error as AgentError).code ?? 'AGENT_ERR_CONFIG'}: ${(error as Error).message}\n`);
    await serving.close();
    return 1;
  }
  process.stdout.write(`fedfleet agent ${agent.deviceId} (${config.name}) connecting to ${agent.credentials?.mqttUrl}\n`);
  // The endpoint's listening socket would keep the process alive after a stop or a fatal error.
  return done.finally(() => serving.close());
}
