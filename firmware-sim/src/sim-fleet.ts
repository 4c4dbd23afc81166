import { EventEmitter } from 'node:events';
import { readFile, writeFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  Agent, MemoryArtifactCache, MemoryCredentialStore, enroll, silentLogger,
  type DeviceCredentials, type Logger,
} from '@fedfleet/agent';
import { createTrainingCommands, dataSourceFromSpec } from '@fedfleet/agent/training';
import { mixSeed, mulberry32, type McuFit } from '@fedfleet/proto';
import type { Drift, DriftRule } from './drift.js';
import { FleetDrift } from './fleet-drift.js';
import { mcuInt8Admission } from './model-fit.js';
import { simServing, type SimServing } from './sim-serving.js';
import { SimTelemetry } from './sim-telemetry.js';
import { withTraffic } from './sim-traffic.js';
import { wireProfile, type SimProfile } from './profiles.js';

/** Fault injection, per device and independent between devices (seeded). */
export interface SimFaults {
  /** Probability that a device drops its connection right after it accepts a training task. Default 0. */
  dropoutRate?: number;
  /** How long a dropped device stays away before it reconnects, ms. Default 5,000. */
  rejoinAfterMs?: number;
  /** Extra delay before every training task starts, ms (a slow link or a slow MCU). Default 0. */
  slowLinkMs?: number;
}

export interface SimFleetOptions {
  hubUrl: string;
  /**
   * Enrollment token with enough uses for every device not yet enrolled, or a function that makes one for `needed`
   * devices — called only when some device has no saved credentials.
   */
  enrollmentToken?: string | ((needed: number) => Promise<string>);
  /** Number of devices in this process. */
  devices: number;
  /** Index of the first device (several processes can share one fleet). Default 0. */
  firstIndex?: number;
  /** Devices in the whole fleet, for data partitioning. Default `firstIndex + devices`. */
  fleetSize?: number;
  /** Device names are `${namePrefix}-${index padded to 3}`. Default 'sim'. */
  namePrefix?: string;
  profile: SimProfile;
  /**
   * Data spec, e.g. `mnist:iid`, `mnist:shards`, `mnist:dirichlet:0.5`: every device gets its partition (training
   * and held-out test examples); none = devices refuse training, evaluation and calibration. Microcontroller
   * profiles use it to evaluate int8 models; they never train.
   */
  data?: string;
  /**
   * Per-device data spec overriding `data` where it returns one, e.g. `(i) => (i % 5 === 0 ? 'mnist:labels:7,8,9' :
   * undefined)`: devices whose local data a new version classifies badly (rollout health-gate tests and benchmarks).
   */
  dataFor?: (index: number) => string | undefined;
  /**
   * Directory of the devices' model stores, one sub-directory per device name (kept across restarts). Default: a
   * temporary directory per fleet, removed on {@link SimFleet.stop}.
   */
  storeDir?: string;
  /** Predictions each serving device makes on its held-out examples per heartbeat (simulated traffic). Default 20. */
  inferencesPerHeartbeat?: number;
  /**
   * Shifts of the devices' serving traffic (`fedfleet sim --drift`, drift.ts), each from its delay after
   * {@link SimFleet.start}; {@link SimFleet.setDrift} changes them at run time.
   */
  drift?: readonly DriftRule[];
  /** Milliseconds the drift delays count in. Default Date.now. */
  clock?: () => number;
  /** Seed of data partitioning and fault injection. Default 1. */
  seed?: number;
  labels?: Record<string, string>;
  heartbeatSec?: number;
  faults?: SimFaults;
  /** Persist credentials here (JSON) so a restarted sim reuses its devices. */
  credentialsFile?: string;
  /** Devices enrolled / connected at once. Default 8. */
  concurrency?: number;
  logger?: Logger;
}

export interface SimFleetEvents {
  enrolled: [{ index: number; deviceId: string }];
  online: [{ index: number; deviceId: string }];
  offline: [{ index: number; deviceId: string; reason: string }];
  dropout: [{ index: number; deviceId: string }];
  /** A microcontroller admitted an int8 model: its flash, arena and estimated latency per inference (resource model). */
  modelFit: [{ index: number; deviceId: string; commandId: string; fit: McuFit }];
  /** A microcontroller admitted a bundle's int8 model to serve (or shadow): its flash, arena and estimated latency. */
  servingFit: [{ index: number; deviceId: string; versionId: string; fit: McuFit }];
}

export interface SimDevice {
  index: number;
  name: string;
  agent: Agent;
  /** The device's model store, inference service and simulated traffic. */
  serving: SimServing;
}

/** Default of {@link SimFleetOptions.inferencesPerHeartbeat}. */
export const DEFAULT_INFERENCES_PER_HEARTBEAT = 20;

/** Many simulated devices in one process, each with its own MQTT session, credentials and data partition. */
export class SimFleet extends EventEmitter<SimFleetEvents> {
  readonly devices: SimDevice[] = [];
  private readonly log: Logger;
  private readonly random: () => number;
  private saved: Record<string, DeviceCredentials> = {};
  private token: string | undefined;
  private storeRoot: { dir: string; temporary: boolean } | undefined;
  private readonly drift: FleetDrift;

  constructor(private readonly options: SimFleetOptions) {
    super();
    this.log = options.logger ?? silentLogger;
    this.random = mulberry32(options.seed ?? 1);
    this.drift = new FleetDrift(options.drift ?? [], options.clock ?? Date.now);
  }

  /**
   * Shifts the serving traffic of some devices from their next heartbeat on, over any `--drift` rule: `devices` are
   * fleet indices, device names or device ids, or 'all'; `drift` a spec (`invert`, `noise:0.3`, `brightness:0.5`,
   * `labels:7,8,9`, joined with `+`), a parsed {@link Drift}, or null for their data as it is.
   * @throws RangeError for a bad spec or a device this fleet does not have.
   */
  setDrift(devices: 'all' | readonly (number | string)[], drift: string | Drift | null): void {
    const indices = devices === 'all' ? this.devices.map((d) => d.index) : devices.map((ref) => {
      const device = this.devices.find((d) => d.index === ref || d.name === ref || d.agent.deviceId === ref);
      if (!device) throw new RangeError(`no simulated device ${JSON.stringify(ref)}`);
      return device.index;
    });
    this.drift.set(indices, drift);
  }

  /** The drift a device's traffic has now, or undefined. */
  driftOf(index: number): Drift | undefined {
    const device = this.devices.find((d) => d.index === index);
    return device && this.drift.of({ index, name: device.name, labels: this.deviceLabels() });
  }

  private deviceLabels(): Record<string, string> {
    return { sim: 'true', profile: this.options.profile.kind, ...this.options.labels };
  }

  deviceName(index: number): string {
    return `${this.options.namePrefix ?? 'sim'}-${String(index).padStart(3, '0')}`;
  }

  /** Enrolls (or reuses saved credentials for) every device and connects them; resolves when all are online. */
  async start(): Promise<void> {
    const { devices, firstIndex = 0 } = this.options;
    if (this.options.credentialsFile) this.saved = await loadCredentials(this.options.credentialsFile);
    const indices = Array.from({ length: devices }, (_, i) => firstIndex + i);
    const needed = indices.filter((index) => !this.saved[this.deviceName(index)]).length;
    this.storeRoot = this.options.storeDir
      ? { dir: this.options.storeDir, temporary: false }
      : { dir: await mkdtemp(join(tmpdir(), 'fedfleet-sim-models-')), temporary: true };
    const { enrollmentToken } = this.options;
    this.token = typeof enrollmentToken === 'function' ? (needed > 0 ? await enrollmentToken(needed) : undefined) : enrollmentToken;
    await forEachLimit(indices, this.options.concurrency ?? 8, async (index) => {
      const device = await this.createDevice(index);
      this.devices.push(device);
    });
    this.devices.sort((a, b) => a.index - b.index);
    this.drift.start();
    await this.persist();
    await forEachLimit(this.devices, this.options.concurrency ?? 8, async (device) => {
      const online = new Promise<void>((resolve) => device.agent.once('online', () => resolve()));
      await device.agent.start();
      await online;
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.agent.stop('sim stopped').catch(() => {})));
    for (const device of this.devices) device.serving.store()?.close();
    if (this.storeRoot?.temporary) await rm(this.storeRoot.dir, { recursive: true, force: true });
  }

  private async createDevice(index: number): Promise<SimDevice> {
    const name = this.deviceName(index);
    const { profile, faults = {} } = this.options;
    let credentials = this.saved[name];
    if (!credentials) {
      if (!this.token) throw new Error(`no saved credentials for ${name} and no enrollment token`);
      credentials = await enroll({
        hubUrl: this.options.hubUrl, token: this.token, name, profile: wireProfile(profile),
        labels: this.deviceLabels(),
      });
      this.saved[name] = credentials;
      this.emit('enrolled', { index, deviceId: credentials.deviceId });
    }
    const store = new MemoryCredentialStore();
    await store.save(credentials);
    const fleetSize = this.options.fleetSize ?? (this.options.firstIndex ?? 0) + this.options.devices;
    const dataSpec = this.options.dataFor?.(index) ?? this.options.data;
    const dataSource = dataSpec ? await dataSourceFromSpec(dataSpec, { index, devices: fleetSize, seed: this.options.seed ?? 1 }) : undefined;
    const serving = simServing({
      dir: join(this.storeRoot!.dir, name), profile, dataSource, log: this.log,
      inferencesPerHeartbeat: this.options.inferencesPerHeartbeat ?? DEFAULT_INFERENCES_PER_HEARTBEAT,
      drift: () => this.drift.of({ index, name, labels: this.deviceLabels() }),
      // Its own stream: drawing from the fleet's generator would change every device's fault injection.
      random: mulberry32(mixSeed(this.options.seed ?? 1, index)),
      onFit: (fit, manifest) => this.emit('servingFit', { index, deviceId: credentials.deviceId, versionId: manifest.versionId, fit }),
    });
    const deviceRandom = mulberry32(Math.floor(this.random() * 2 ** 32));
    let agent!: Agent;
    const admitInt8Model = mcuInt8Admission(profile, (fit, ctx) => this.emit('modelFit', { index, deviceId: credentials.deviceId, commandId: ctx.commandId, fit }));
    const commands = createTrainingCommands({
      dataSource,
      profile: wireProfile(profile),
      ...(admitInt8Model ? { admitInt8Model } : {}),
      beforeTrain: async () => {
        if (faults.slowLinkMs) await sleep(faults.slowLinkMs);
        if (faults.dropoutRate && deviceRandom() < faults.dropoutRate) {
          this.emit('dropout', { index, deviceId: credentials.deviceId });
          agent.crash();
          setTimeout(() => void agent.start().catch(() => {}), faults.rejoinAfterMs ?? 5_000).unref();
          throw Object.assign(new Error('simulated drop-out'), { code: 'AGENT_ERR_CANCELLED' });
        }
      },
    });
    agent = new Agent({
      credentials: store,
      profile: wireProfile(profile),
      // Declared only by devices that train: it bounds the weight of their updates.
      ...(dataSource && profile.canTrain ? { trainExamples: dataSource.describe().trainCount } : {}),
      telemetry: withTraffic(new SimTelemetry(profile, () => agent.busy, deviceRandom), serving.traffic),
      modelStore: serving.openStore,
      inference: serving.service,
      ...(this.options.heartbeatSec ? { heartbeatSec: this.options.heartbeatSec } : {}),
      backoff: { initialMs: 200, maxMs: 5_000 },
      artifactCache: new MemoryArtifactCache(1),
      commands,
      logger: this.log,
    });
    agent.on('online', () => this.emit('online', { index, deviceId: credentials.deviceId }));
    agent.on('offline', ({ reason }) => this.emit('offline', { index, deviceId: credentials.deviceId, reason }));
    return { index, name, agent, serving };
  }

  private async persist(): Promise<void> {
    const file = this.options.credentialsFile;
    if (!file) return;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(this.saved, null, 2), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
}

async function loadCredentials(file: string): Promise<Record<string, DeviceCredentials>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, DeviceCredentials>;
  } catch {
    return {};
  }
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
