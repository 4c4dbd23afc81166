import { InferenceService, ModelStore, selfTestExamplesOf, type Logger, type ModelStoreFactory } from '@fedfleet/agent';
import type { DataSource } from '@fedfleet/agent/training';
import type { BundleManifest, McuFit } from '@fedfleet/proto';
import { SimDeviceClock } from './device-clock.js';
import { wireProfile, type SimProfile } from './profiles.js';
import { simModelLoader } from './sim-model-loader.js';
import type { Drift } from './drift.js';
import { SimTraffic } from './sim-traffic.js';

/** What one simulated device serves with: its model store (open once the agent starts), inference path and traffic. */
export interface SimServing {
  /** The agent's `modelStore` option: opens the store with the hub key from the device's credentials. */
  openStore: ModelStoreFactory;
  /** The store, once the agent opened it. */
  store(): ModelStore | undefined;
  service: InferenceService;
  traffic: SimTraffic;
  clock: SimDeviceClock;
}

export interface SimServingOptions {
  /** The device's own store directory. */
  dir: string;
  profile: SimProfile;
  /** The device's data partition: its test split is the self-test data and the simulated traffic. */
  dataSource: DataSource | undefined;
  inferencesPerHeartbeat: number;
  /** The shift of the device's serving traffic now (drift.ts); none = its held-out data as it is. */
  drift?: () => Drift | undefined;
  /** Seeded uniform numbers for a noise drift. */
  random?: () => number;
  onFit?: (fit: McuFit, manifest: BundleManifest) => void;
  log: Logger;
}

/**
 * A simulated device's serving: a model store in `dir` (opened by the agent at start, recovering whatever a previous
 * run left there) with the loader of its profile and its held-out data as self-test data, and the inference service
 * and traffic over it. One device clock times self-tests and served predictions alike, so an MCU reports its
 * estimated latency in both.
 */
export function simServing(options: SimServingOptions): SimServing {
  const { profile, dataSource, log } = options;
  const clock = new SimDeviceClock();
  let store: ModelStore | undefined;
  const selfTestData = dataSource ? selfTestExamplesOf(dataSource) : undefined;
  const openStore: ModelStoreFactory = async (credentials) => {
    store = await ModelStore.open({
      dir: options.dir,
      publicKeyPem: credentials.hubPublicKey,
      profile: wireProfile(profile),
      loader: simModelLoader(profile, { clock, log, ...(options.onFit ? { onFit: options.onFit } : {}) }),
      ...(selfTestData ? { selfTestData } : {}),
      clock: clock.now,
      log,
    });
    return store;
  };
  const service = new InferenceService({ active: () => store?.active(), shadow: () => store?.shadow() }, {
    clock: clock.now, log, ...(dataSource ? { inputs: { trainingData: () => dataSource.train() } } : {}),
  });
  const test = dataSource ? () => dataSource.test() : () => undefined;
  const traffic = new SimTraffic({
    service, examples: test, perHeartbeat: options.inferencesPerHeartbeat, log,
    ...(options.drift ? { drift: options.drift } : {}), ...(options.random ? { random: options.random } : {}),
  });
  return { openStore, store: () => store, service, traffic, clock };
}
