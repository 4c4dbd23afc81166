import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { jsonLogger, parseLabels } from '@fedfleet/agent';
import { parseDataFor } from './data-for.js';
import { parseDriftRule, type DriftRule } from './drift.js';
import { SIM_PROFILES, simProfile } from './profiles.js';
import { SimFleet } from './sim-fleet.js';

const USAGE = `usage: fedfleet sim --devices N [--data mnist:iid|mnist:shards|mnist:dirichlet:<a>] [options]

Runs N simulated devices in this process, each with its own MQTT session, credentials and data partition.

  --hub <url>              hub HTTP URL (env FEDFLEET_HUB, default http://127.0.0.1:8080)
  --token <token>          enrollment token with at least N uses; without it one is created with the admin token
  --admin-token <token>    admin token (env FEDFLEET_ADMIN_TOKEN, else <--hub-data-dir>/admin.token)
  --hub-data-dir <dir>     the hub's data dir, for its admin.token (default ./data)
  --devices <n>            devices in this process (default 10)
  --first-index <i>        index of the first device (several sim processes can share one fleet; default 0)
  --fleet-size <n>         devices in the whole fleet, for data partitioning (default first-index + devices)
  --profile <name>         ${Object.keys(SIM_PROFILES).join(' | ')} (default rpi-zero-2w)
  --data <spec>            each device's data partition (train and test); without it devices refuse train, eval, calibrate
                           (and serve no simulated traffic); mnist:labels:<d>,<d>,… = only those digits
  --data-for <i>-<j>=<spec>  devices i to j hold <spec> instead of --data (repeatable; the last matching wins)
  --drift <devices>:<shift>[@<after>]  shift the serving traffic of devices (all | i | i-j | name | k=v) after a delay
                           (30s, 2m; default at once): invert | noise:<sigma> | brightness:<factor> | labels:<d>,<d>,…
                           (several joined with +), e.g. --drift 'site=b:invert@30s' (repeatable; the last matching wins)
  --inferences-per-heartbeat <n>  predictions each serving device makes on its held-out data per heartbeat (default 20)
  --labels k=v,...         extra labels (every sim device also gets sim=true and profile=<name>)
  --name-prefix <p>        device names <p>-000, <p>-001, … (default sim)
  --seed <n>               seed of partitions and fault injection (default 1)
  --heartbeat-sec <n>      telemetry period (default: the hub's)
  --dropout <p>            probability a device drops its connection after accepting a training task
  --rejoin-sec <n>         how long a dropped device stays away (default 5)
  --data-dir <dir>         where credentials and model stores (<dir>/models) are kept so a restart reuses the devices
                           and what they serve (default ./sim-data)
  --log-level <level>      debug | info | warn | error (default warn)
`;

class SimCliError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

async function createEnrollmentToken(hubUrl: string, admin: string, labels: Record<string, string>, maxUses: number): Promise<string> {
  const response = await fetch(`${hubUrl}/v1/enrollment-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ labels, maxUses, ttlSec: 3600 }),
  }).catch((error: Error) => error);
  if (response instanceof Error || !response.ok) {
    const detail = response instanceof Error ? response.message : await response.text();
    throw new SimCliError('HUB_ERR_HUB_UNREACHABLE', `could not create an enrollment token at ${hubUrl}: ${detail}`);
  }
  return ((await response.json()) as { token: string }).token;
}

async function adminToken(flag: string | undefined, hubDataDir: string): Promise<string | undefined> {
  if (flag) return flag;
  if (process.env.FEDFLEET_ADMIN_TOKEN) return process.env.FEDFLEET_ADMIN_TOKEN;
  return (await readFile(resolve(hubDataDir, 'admin.token'), 'utf8').catch(() => '')).trim() || undefined;
}

/** `fedfleet sim`: runs until SIGINT/SIGTERM. */
export async function runSimCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        hub: { type: 'string' }, token: { type: 'string' }, 'admin-token': { type: 'string' }, 'hub-data-dir': { type: 'string' },
        devices: { type: 'string' }, 'first-index': { type: 'string' }, 'fleet-size': { type: 'string' }, profile: { type: 'string' },
        data: { type: 'string' }, 'data-for': { type: 'string', multiple: true }, drift: { type: 'string', multiple: true }, 'inferences-per-heartbeat': { type: 'string' }, labels: { type: 'string' }, 'name-prefix': { type: 'string' }, seed: { type: 'string' },
        'heartbeat-sec': { type: 'string' }, dropout: { type: 'string' }, 'rejoin-sec': { type: 'string' }, 'data-dir': { type: 'string' },
        'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`error HUB_ERR_CLI_USAGE: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const hubUrl = (values.hub ?? process.env.FEDFLEET_HUB ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const devices = Number(values.devices ?? 10);
  const firstIndex = Number(values['first-index'] ?? 0);
  const fleetSize = Number(values['fleet-size'] ?? firstIndex + devices);
  if (!Number.isInteger(devices) || devices < 1 || !Number.isInteger(firstIndex) || firstIndex < 0 || fleetSize < firstIndex + devices) {
    process.stderr.write('error HUB_ERR_CLI_USAGE: --devices, --first-index and --fleet-size must be consistent whole numbers\n');
    return 2;
  }
  const profile = simProfile(values.profile ?? 'rpi-zero-2w');
  const labels = parseLabels(values.labels);
  const log = jsonLogger((values['log-level'] ?? 'warn') as 'warn', { component: 'sim' });
  const dataDir = resolve(values['data-dir'] ?? './sim-data');
  const inferencesPerHeartbeat = Number(values['inferences-per-heartbeat'] ?? 20);
  let dataFor;
  let drift: DriftRule[];
  try {
    dataFor = parseDataFor(values['data-for'] ?? []);
    drift = (values.drift ?? []).map(parseDriftRule);
  } catch (error) {
    process.stderr.write(`error HUB_ERR_CLI_USAGE: ${(error as Error).message}\n`);
    return 2;
  }
  if (!Number.isInteger(inferencesPerHeartbeat) || inferencesPerHeartbeat < 0) {
    process.stderr.write('error HUB_ERR_CLI_USAGE: --inferences-per-heartbeat must be a whole number\n');
    return 2;
  }

  // Without --token, a token for just the devices that have no saved credentials, made with the admin token.
  let enrollmentToken: string | ((needed: number) => Promise<string>) | undefined = values.token;
  if (!enrollmentToken) {
    const admin = await adminToken(values['admin-token'], values['hub-data-dir'] ?? './data');
    if (admin) enrollmentToken = (needed) => createEnrollmentToken(hubUrl, admin, { sim: 'true', ...labels }, needed);
  }

  const fleet = new SimFleet({
    hubUrl, devices, firstIndex, fleetSize, profile, labels, logger: log, dataFor, drift, inferencesPerHeartbeat,
    credentialsFile: resolve(dataDir, 'credentials.json'), storeDir: resolve(dataDir, 'models'),
    ...(enrollmentToken ? { enrollmentToken } : {}),
    ...(values.data ? { data: values.data } : {}),
    ...(values['name-prefix'] ? { namePrefix: values['name-prefix'] } : {}),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    ...(values['heartbeat-sec'] ? { heartbeatSec: Number(values['heartbeat-sec']) } : {}),
    faults: {
      ...(values.dropout ? { dropoutRate: Number(values.dropout) } : {}),
      ...(values['rejoin-sec'] ? { rejoinAfterMs: Number(values['rejoin-sec']) * 1000 } : {}),
    },
  });
  let online = 0;
  fleet.on('online', () => {
    online += 1;
    if (online <= devices && (online === devices || online % Math.max(1, Math.ceil(devices / 10)) === 0)) {
      process.stderr.write(`sim: ${online}/${devices} devices online\n`);
    }
  });
  fleet.on('dropout', ({ index }) => process.stderr.write(`sim: ${fleet.deviceName(index)} dropped out (injected)\n`));
  try {
    await fleet.start();
  } catch (error) {
    process.stderr.write(`error ${(error as { code?: string }).code ?? 'AGENT_ERR_ENROLL_FAILED'}: ${(error as Error).message}\n`);
    await fleet.stop();
    return 1;
  }
  process.stdout.write(`sim: ${devices} ${profile.kind} devices online (${fleet.deviceName(firstIndex)} … ${fleet.deviceName(firstIndex + devices - 1)})${values.data ? `, data ${values.data}` : ''}\n`);
  return new Promise<number>((resolveExit) => {
    const stop = () => void fleet.stop().then(() => resolveExit(0), () => resolveExit(1));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
