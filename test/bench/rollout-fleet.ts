/**
 * bench:rollout's system, all in this process: a hub (buildHub on a temporary data directory, real HTTP and MQTT
 * listeners on ports the OS picks) and the simulated fleet — one SimFleet per profile, each device a full agent with
 * its own model store on disk — which can be stopped and started again with other data on some devices (the
 * credentials and stores are kept, so a restarted device is the same enrolled device serving the same version).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SimFleet, simProfile } from '@fedfleet/firmware-sim';
import { buildHub, type Hub } from '../../hub/src/build-hub.js';
import { createConfig } from '../../hub/src/config.js';
import { createLogger } from '../../hub/src/logger.js';
import { HubApi } from '../support/hub-api.js';
import { tempDir } from '../support/hub-process.js';

export interface BenchHub {
  hub: Hub;
  api: HubApi;
  httpUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

/** The hub in this process; it logs warnings and errors to stderr, so stdout keeps only the bench's lines. */
export async function startBenchHub(): Promise<BenchHub> {
  const dir = tempDir('fedfleet-bench-rollout-');
  const adminToken = `bench-${randomBytes(18).toString('hex')}`;
  const config = createConfig({ dataDir: join(dir.path, 'hub'), httpPort: 0, mqttPort: 0, host: '127.0.0.1', logLevel: 'warn', adminToken });
  const hub = buildHub(config, { logger: createLogger('warn', process.stderr) });
  const { httpUrl } = await hub.listen();
  return {
    hub, api: new HubApi(httpUrl, adminToken), httpUrl, dataDir: dir.path,
    async close() {
      await hub.close();
      dir.remove();
    },
  };
}

/** One group of identical devices: named `<profile>-<index>`, indices global over the whole fleet. */
export interface FleetGroup {
  profile: string;
  devices: number;
  firstIndex: number;
}

export interface FleetDevice {
  index: number;
  name: string;
  profile: string;
}

/** The fleet: its groups as SimFleets sharing credentials files and model stores under the bench's directory. */
export class BenchFleet {
  private fleets: SimFleet[] = [];
  private readonly storeListeners: (() => void)[] = [];

  constructor(
    private readonly hub: BenchHub,
    readonly groups: readonly FleetGroup[],
    /** The data spec of a device by global index (its data partition, or other data). */
    private readonly dataOf: (index: number) => string,
    private readonly seed: number,
  ) {}

  get size(): number {
    return this.groups.reduce((n, g) => n + g.devices, 0);
  }

  /** Every device of the started fleet, by global index. */
  list(): FleetDevice[] {
    return this.fleets.flatMap((fleet, g) => fleet.devices.map((d) => ({ index: d.index, name: d.name, profile: this.groups[g]!.profile })));
  }

  /**
   * Enrolls (first time) or reconnects every device, with `dataFor(index)` overriding its data where it returns a
   * spec; resolves once all are online.
   */
  async start(dataFor: (index: number) => string | undefined = () => undefined): Promise<void> {
    const { api } = this.hub;
    this.fleets = this.groups.map((g) => new SimFleet({
      hubUrl: this.hub.httpUrl,
      enrollmentToken: async (needed) => (await api.request<{ token: string }>('POST', '/v1/enrollment-tokens', { maxUses: needed })).token,
      devices: g.devices, firstIndex: g.firstIndex, fleetSize: this.size, namePrefix: g.profile, profile: simProfile(g.profile),
      dataFor: (index) => dataFor(index) ?? this.dataOf(index),
      seed: this.seed,
      credentialsFile: join(this.hub.dataDir, `credentials-${g.profile}.json`),
      storeDir: join(this.hub.dataDir, `stores-${g.profile}`),
      labels: { bench: 'rollout' },
    }));
    for (const fleet of this.fleets) await fleet.start();
  }

  async stop(): Promise<void> {
    for (const off of this.storeListeners.splice(0)) off();
    await Promise.all(this.fleets.map((f) => f.stop()));
    this.fleets = [];
  }

  /**
   * Calls `listener(name, versionId)` whenever a device's model store activates a version (what the device itself
   * serves, not what the hub was told). Until stop().
   */
  onActivated(listener: (name: string, versionId: string) => void): void {
    for (const fleet of this.fleets) {
      for (const device of fleet.devices) {
        const store = device.serving.store();
        if (!store) continue;
        let last = store.state.active?.versionId;
        const onChanged = (state: { active?: { versionId: string } }): void => {
          const now = state.active?.versionId;
          if (now && now !== last) listener(device.name, now);
          last = now;
        };
        store.on('changed', onChanged);
        this.storeListeners.push(() => store.off('changed', onChanged));
      }
    }
  }
}
