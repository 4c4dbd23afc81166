/**
 * How the agent CLI opens its model store: every bundle format an agent runs (tfjs-layers on TensorFlow.js, int8
 * tflite on the integer kernels), self-tested on the test split of the device's data. ML side: it imports tfjs
 * through the loader, so the core agent reaches it only by a dynamic import.
 */
import type { HardwareProfileProps } from '@fedfleet/proto';
import type { DataSource } from '../data/dataset.js';
import type { Logger } from '../logger.js';
import type { Int8LoadAdmission } from './int8-loader.js';
import { ModelStore } from './model-store.js';
import { selfTestExamplesOf } from './self-test-data.js';
import { bundleLoader } from './tfjs-loader.js';

export interface AgentStoreOptions {
  /** The store directory (default of the CLI: `<data dir>/models`). */
  dir: string;
  /** The hub's public key from the saved credentials. */
  publicKeyPem: string;
  profile: HardwareProfileProps;
  dataSource?: DataSource | undefined;
  admitInt8?: Int8LoadAdmission;
  log?: Logger;
}

export function openAgentModelStore(options: AgentStoreOptions): Promise<ModelStore> {
  return ModelStore.open({
    dir: options.dir,
    publicKeyPem: options.publicKeyPem,
    profile: options.profile,
    loader: bundleLoader({ profile: options.profile, ...(options.admitInt8 ? { admitInt8: options.admitInt8 } : {}) }),
    ...(options.dataSource ? { selfTestData: selfTestExamplesOf(options.dataSource) } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
