/**
 * Cross-part harness for the federated learning acceptance tests: a real hub (TCP HTTP + aedes + SQLite in a temp
 * dir) with a model, and real agents (TensorFlow.js training on MNIST partitions) enrolled through the API. Every
 * resource is torn down when the current test ends.
 */
import { onTestFinished } from 'vitest';
import { Agent, MemoryArtifactCache, MemoryCredentialStore, type CommandContext } from '@fedfleet/agent';
import { mnistDataSource } from '@fedfleet/agent/ml';
import { createTrainingCommands } from '@fedfleet/agent/training';
import type { HardwareProfileProps } from '@fedfleet/proto';
import { waitFor } from '../../hub/test/helpers/devices.js';
import { startTestHub, type StartTestHubOptions, type TestHub } from '../../hub/test/helpers/test-hub.js';
import { createToken, getCampaign, startCampaign, waitForCampaign, type Api } from '../../hub/test/rounds/round-helpers.js';

export { getCampaign, startCampaign, waitFor, waitForCampaign };

export const BOARD: HardwareProfileProps = {
  kind: 'test-board', ramBytes: 512 * 1024 ** 2, flashBytes: 8 * 1024 ** 3, cpuMhz: 1500, int8Only: false, canTrain: true, cores: 4, arch: 'arm64',
};

/** Small, fast training settings for mnist-2nn (a few dozen examples, one epoch). */
export const FAST_TRAINING = { epochs: 1, batchSize: 20, learningRate: 0.1, maxExamples: 60 } as const;

export interface FlHub extends TestHub {
  modelId: string;
  versionId: string;
}

/** A hub listening on ephemeral ports with one `mnist-2nn` model named `digits`. */
export async function startFlHub(options: StartTestHubOptions = {}): Promise<FlHub> {
  const testHub = await startTestHub(options);
  const created = await testHub.api<{ model: { id: string }; version: { id: string } }>('POST', '/v1/models', {
    name: 'digits', architecture: 'mnist-2nn', seed: 7,
  });
  if (created.status !== 201) throw new Error(`model creation failed: ${JSON.stringify(created.body)}`);
  return Object.assign(testHub, { modelId: created.body.model.id, versionId: created.body.version.id });
}

export interface TestAgentOptions {
  name: string;
  /** MNIST partition: device `index` of `of`; none = the device has no data. */
  data?: { index: number; of: number };
  profile?: HardwareProfileProps;
  labels?: Record<string, string>;
  /** Runs after the train task was accepted, before training. */
  beforeTrain?: (ctx: CommandContext) => Promise<void>;
}

export interface TestAgent {
  name: string;
  agent: Agent;
  deviceId: string;
}

/** Where agents enroll: the hub's HTTP URL and its admin API. */
export interface HubTarget {
  httpUrl: string;
  api: Api;
}

/** Enrolls and starts one agent per entry, resolves once each is online at the hub. */
export async function startAgents(hub: HubTarget, agents: TestAgentOptions[]): Promise<TestAgent[]> {
  const token = await createToken(hub.api, { maxUses: agents.length });
  const started = await Promise.all(agents.map(async (options) => {
    const profile = options.profile ?? BOARD;
    const dataSource = options.data ? mnistDataSource({ devices: options.data.of, index: options.data.index, partition: 'iid', seed: 3 }) : undefined;
    const agent = new Agent({
      credentials: new MemoryCredentialStore(),
      enrollment: { hubUrl: hub.httpUrl, token, name: options.name, ...(options.labels ? { labels: options.labels } : {}) },
      profile,
      ...(dataSource ? { trainExamples: dataSource.describe().trainCount } : {}),
      telemetry: { sample: async () => ({ cpuPercent: 5 }) },
      backoff: { initialMs: 50, maxMs: 300 },
      artifactCache: new MemoryArtifactCache(2),
      commands: createTrainingCommands({ dataSource, profile, ...(options.beforeTrain ? { beforeTrain: options.beforeTrain } : {}) }),
    });
    onTestFinished(() => agent.stop('test finished').catch(() => {}));
    const online = new Promise<void>((resolve) => agent.once('online', () => resolve()));
    await agent.start();
    await online;
    return { name: options.name, agent, deviceId: agent.deviceId! };
  }));
  await waitFor(async () => {
    const listed = await hub.api<{ id: string }[]>('GET', '/v1/devices?status=online&limit=1000');
    return started.every((a) => listed.body.some((d) => d.id === a.deviceId));
  }, 5000, 'agents online at the hub');
  return started;
}

/** A promise with its resolver, to hold devices at a point of the round. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
