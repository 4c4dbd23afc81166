/**
 * Scripted devices for the rollout tests: raw MQTT clients enrolled through the API (round-helpers' RawDevice) that
 * keep a model store's state (active, previous, shadow version) in their Status and answer DeployModel and
 * RollbackModel as their script says — install and report a self-test (healthy or worse than the baseline), fail
 * with a code, refuse as busy, get stuck, report shadow counts. A repeated command id is answered from memory, as
 * agents do. Their Status announces a day-long heartbeat, so a manual clock can run past deviceTimeoutSec without
 * liveness taking them offline.
 */
import mqtt from 'mqtt';
import {
  DeployMode, DeployPhase, DeviceState, ResultCode, decodeEnvelope, deviceTopic, encodeEnvelope,
  type CommandProps, type DeployReportProps, type EnvelopeProps, type HardwareProfileProps, type ShadowStatsProps,
} from '@fedfleet/proto';
import type { Hub } from '../../src/build-hub.js';
import { createManualClock } from '../../src/clock.js';
import type { RolloutDetailJson } from '../../src/rollouts/schemas.js';
import { BOARD, RawDevice, startRoundHub, tinyDelta, waitFor, type Api } from '../rounds/round-helpers.js';

export interface DeviceScript {
  /** What a DeployModel does: install (default), never answer after DOWNLOADING, fail with a code, or refuse N times as busy first. */
  deploy?: 'install' | 'stuck' | { fail: string } | { busy: number };
  /** Self-test accuracy of the new version (default 0.9) and of the serving one on the same examples (default 0.9). */
  accuracy?: number;
  baselineAccuracy?: number;
  /** p95 latency of the new version's self-test (default 10 ms; the baseline's is 10 ms). */
  p95Ms?: number;
  /** Counts of a SHADOW deploy's first SHADOWING report. */
  shadow?: Omit<ShadowStatsProps, 'agreements'> & { agreements?: number };
  /** A RollbackModel is answered (default) or never. */
  rollback?: 'answer' | 'stuck';
  /** Replies of an activation that are lost on the way (never published): its ACTIVATED report, its DONE result. */
  lose?: ('activated' | 'done')[];
}

export const SELF_TEST_EXAMPLES = 50;

export class ScriptedDevice {
  active = '';
  previous = '';
  shadow = '';
  /** Commands received, in order (deploy, rollback, cancel). */
  readonly received: (CommandProps & { commandId: string })[] = [];
  private readonly answered = new Map<string, Omit<EnvelopeProps, 'deviceId'>[]>();
  private chain: Promise<void> = Promise.resolve();
  private busyLeft: number;

  constructor(readonly raw: RawDevice, public script: DeviceScript, readonly modelId: string, private mqttUrl: string) {
    this.busyLeft = typeof script.deploy === 'object' && 'busy' in script.deploy ? script.deploy.busy : 0;
  }

  get deviceId(): string {
    return this.raw.deviceId;
  }

  get name(): string {
    return this.raw.creds.name;
  }

  /** Connects (to `mqttUrl`, default the hub it enrolled on) and publishes its Status; commands are answered from now on. */
  async connect(mqttUrl?: string): Promise<void> {
    if (mqttUrl) this.mqttUrl = mqttUrl;
    const { creds } = this.raw;
    const { deviceId } = this;
    // Its own connect (not RawDevice's): the first Status it publishes already names its versions.
    const client = await mqtt.connectAsync(this.mqttUrl, {
      clientId: creds.clientId, username: creds.username, password: creds.password, reconnectPeriod: 0, connectTimeout: 5000, clean: true,
      will: { topic: deviceTopic(deviceId, 'status'), payload: Buffer.from(encodeEnvelope({ deviceId, status: { state: DeviceState.DEVICE_STATE_OFFLINE } })), qos: 1, retain: true },
    });
    this.raw.client = client;
    await client.subscribeAsync(deviceTopic(deviceId, 'cmd'), { qos: 1 });
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/cmd')) return;
      const { command } = decodeEnvelope(payload, { topicKind: 'cmd' });
      if (command?.commandId) this.chain = this.chain.then(() => this.onCommand(command as CommandProps & { commandId: string })).catch(() => {});
    });
    await this.publishStatus();
  }

  /** Forgets the commands it answered, as an agent that restarted does (a repeated command id runs again). */
  forget(): void {
    this.answered.clear();
  }

  async disconnect(): Promise<void> {
    await this.chain;
    await this.raw.close();
  }

  /** Waits until every command received so far was answered. */
  async settled(): Promise<void> {
    await this.chain;
  }

  async publishStatus(): Promise<void> {
    await this.raw.publish('status', {
      status: {
        state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: 'scripted/1', profile: this.raw.profile, heartbeatSec: 86_400,
        activeModelId: this.active ? this.modelId : '', activeVersionId: this.active, previousVersionId: this.previous, shadowVersionId: this.shadow,
      },
    }, { retain: true });
  }

  /** Sends another SHADOWING report for the shadow deploy `commandId` (counts so far). */
  async reportShadow(commandId: string, versionId: string, shadow: ShadowStatsProps): Promise<void> {
    await this.report(commandId, versionId, { phase: DeployPhase.DEPLOY_PHASE_SHADOWING, shadow });
  }

  private async send(commandId: string, body: Omit<EnvelopeProps, 'deviceId'>): Promise<void> {
    const list = this.answered.get(commandId) ?? [];
    list.push(body);
    this.answered.set(commandId, list);
    if (this.raw.client) await this.raw.publish('reply', body);
  }

  private result(commandId: string, code: number, errorCode = '', reason = ''): Promise<void> {
    return this.send(commandId, { commandResult: { commandId, code, errorCode, reason } });
  }

  private report(commandId: string, versionId: string, report: Omit<DeployReportProps, 'commandId' | 'versionId'>): Promise<void> {
    return this.send(commandId, {
      deployReport: { commandId, versionId, modelId: this.modelId, activeVersionId: this.active, previousVersionId: this.previous, ...report },
    });
  }

  private async onCommand(command: CommandProps & { commandId: string }): Promise<void> {
    this.received.push(command);
    const { commandId } = command;
    const earlier = this.answered.get(commandId);
    if (earlier) {
      // A command id it already ran: answered from memory, as agents do ([MQTT-4.3.2] delivers at least once).
      for (const body of earlier) if (this.raw.client) await this.raw.publish('reply', body);
      return;
    }
    if (command.deploy) await this.onDeploy(commandId, command.deploy.model?.versionId ?? '', command.deploy.mode === DeployMode.DEPLOY_MODE_SHADOW);
    else if (command.rollback) await this.onRollback(commandId, command.rollback.fromVersionId ?? '');
  }

  private async onDeploy(commandId: string, versionId: string, shadowMode: boolean): Promise<void> {
    const { script } = this;
    if (this.busyLeft > 0) {
      this.busyLeft--;
      return this.result(commandId, ResultCode.RESULT_CODE_REFUSED, 'AGENT_ERR_BUSY', 'installing another model');
    }
    await this.result(commandId, ResultCode.RESULT_CODE_ACCEPTED);
    await this.report(commandId, versionId, { phase: DeployPhase.DEPLOY_PHASE_DOWNLOADING });
    if (script.deploy === 'stuck') return;
    if (typeof script.deploy === 'object' && 'fail' in script.deploy) {
      await this.report(commandId, versionId, { phase: DeployPhase.DEPLOY_PHASE_FAILED, errorCode: script.deploy.fail, reason: 'scripted failure' });
      return this.result(commandId, ResultCode.RESULT_CODE_FAILED, script.deploy.fail, 'scripted failure');
    }
    await this.report(commandId, versionId, { phase: DeployPhase.DEPLOY_PHASE_VERIFYING });
    if (shadowMode) {
      this.shadow = versionId;
      await this.publishStatus();
      const shadow = { inferences: 0, labelled: 0, championCorrect: 0, challengerCorrect: 0, ...script.shadow };
      await this.report(commandId, versionId, { phase: DeployPhase.DEPLOY_PHASE_SHADOWING, shadow: { agreements: shadow.inferences, ...shadow } });
      return this.result(commandId, ResultCode.RESULT_CODE_DONE);
    }
    if (this.active !== versionId) {
      this.previous = this.active;
      this.active = versionId;
    }
    if (this.shadow === versionId) this.shadow = '';
    // The Status goes out before the report, as the agent's store announces a change first: the hub must still gate.
    await this.publishStatus();
    if (!script.lose?.includes('activated')) {
      await this.report(commandId, versionId, {
        phase: DeployPhase.DEPLOY_PHASE_ACTIVATED,
        selfTest: { examples: SELF_TEST_EXAMPLES, accuracy: script.accuracy ?? 0.9, p50Ms: 5, p95Ms: script.p95Ms ?? 10 },
        baseline: { examples: SELF_TEST_EXAMPLES, accuracy: script.baselineAccuracy ?? 0.9, p50Ms: 5, p95Ms: 10 },
      });
    }
    if (!script.lose?.includes('done')) await this.result(commandId, ResultCode.RESULT_CODE_DONE);
  }

  private async onRollback(commandId: string, fromVersionId: string): Promise<void> {
    if (this.script.rollback === 'stuck') return;
    await this.result(commandId, ResultCode.RESULT_CODE_ACCEPTED);
    const wasActive = this.active === fromVersionId;
    const wasShadow = this.shadow === fromVersionId;
    if (!wasActive && !wasShadow) return this.result(commandId, ResultCode.RESULT_CODE_DONE);
    if (wasActive) {
      this.active = this.previous;
      this.previous = '';
    } else {
      this.shadow = '';
    }
    await this.publishStatus();
    await this.report(commandId, fromVersionId, { phase: DeployPhase.DEPLOY_PHASE_ROLLED_BACK, reason: 'told to' });
    await this.result(commandId, ResultCode.RESULT_CODE_DONE);
  }
}

/** Adds version 2 of the tiny model (weights moved by 0.1), as a round would; returns its id. */
export async function addTinyVersion(hub: Hub, modelId: string, parentVersionId: string): Promise<string> {
  const parent = await hub.models.loadContent(parentVersionId);
  const delta = tinyDelta(0.1);
  const weights = parent.weights.map((w, i) => ({ ...w, data: w.data.map((v, j) => v + delta[i]!.data[j]!) }));
  const version = await hub.models.addRoundVersion({ modelId, parentVersionId, weights });
  return version!.id;
}

/** A round hub on a manual clock, with version 2 (`v2`) of its tiny model to roll out. */
export async function startRolloutHub() {
  const clock = createManualClock();
  const setup = await startRoundHub({ clock });
  const v2 = await addTinyVersion(setup.testHub.hub, setup.model.modelId, setup.model.versionId);
  return { ...setup, clock, v2 };
}

/** An enrolled scripted device serving `activeVersionId`, connected unless `connect: false`. */
export async function scriptedDevice(
  setup: { api: Api; token: string; testHub: { mqttUrl: string } }, name: string, modelId: string,
  options: { script?: DeviceScript; active?: string; labels?: Record<string, string>; profile?: HardwareProfileProps; connect?: boolean } = {},
): Promise<ScriptedDevice> {
  const raw = await RawDevice.enroll(setup.api, setup.testHub.mqttUrl, { name, token: setup.token, labels: options.labels, profile: options.profile ?? BOARD });
  const device = new ScriptedDevice(raw, options.script ?? {}, modelId, setup.testHub.mqttUrl);
  device.active = options.active ?? '';
  if (options.connect !== false) await device.connect();
  return device;
}

export async function getRollout(api: Api, id: string): Promise<RolloutDetailJson> {
  const response = await api<RolloutDetailJson>('GET', `/v1/rollouts/${id}`);
  if (response.status !== 200) throw new Error(`GET /v1/rollouts/${id}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function createRollout(api: Api, body: Record<string, unknown>): Promise<RolloutDetailJson> {
  const response = await api<RolloutDetailJson>('POST', '/v1/rollouts', body);
  if (response.status !== 201) throw new Error(`POST /v1/rollouts: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Polls the rollout until `check` holds; the timeout error shows where it stood. */
export async function waitForRollout(api: Api, id: string, check: (r: RolloutDetailJson) => boolean, what: string, timeoutMs = 15_000): Promise<RolloutDetailJson> {
  let last: RolloutDetailJson | undefined;
  try {
    return await waitFor(async () => {
      last = await getRollout(api, id);
      return check(last) ? last : undefined;
    }, timeoutMs, what);
  } catch (error) {
    const targets = last?.targets.map((t) => `${t.deviceName}:w${t.wave}:${t.state}${t.errorCode ? `(${t.errorCode})` : ''}`);
    const waves = last?.waves.map((w) => `${w.number}:${w.state}`);
    throw new Error(`${(error as Error).message}; rollout ${last?.state} ${last?.reason ?? ''} waves ${JSON.stringify(waves)} targets ${JSON.stringify(targets)}`);
  }
}

/** The target of a device in a rollout view. */
export function targetOf(rollout: RolloutDetailJson, device: { deviceId: string }) {
  return rollout.targets.find((t) => t.deviceId === device.deviceId);
}
