/**
 * Helpers of the round tests: a tiny imported TensorFlow.js model (so expected aggregates are computed by hand),
 * and raw mqtt.js clients that act as selected devices — they see the train task, and send exactly the
 * WeightUpdate bytes a test wants (valid, replayed, NaN, misshapen, …). They work against an in-process test hub
 * and against a hub child process alike: everything goes through an `api` function and an MQTT URL.
 */
import * as tf from '@tensorflow/tfjs';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import { onTestFinished } from 'vitest';
import {
  DeviceState, ResultCode, TensorEncoding, decodeEnvelope, decodeModelBlob, deviceTopic, encodeEnvelope, encodeWeights,
  type CommandProps, type CommandResultProps, type EnvelopeProps, type HardwareProfileProps, type ModelWeights,
  type TensorProps, type WeightUpdateProps,
} from '@fedfleet/proto';
import type { EnrollResponse } from '../../src/fleet/schemas.js';
import type { CampaignDetailJson } from '../../src/rounds/schemas.js';
import { waitFor } from '../helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN } from '../helpers/test-hub.js';

export { waitFor };

export type Api = <T = unknown>(method: string, url: string, body?: unknown) => Promise<{ status: number; body: T }>;

export const BOARD: HardwareProfileProps = {
  kind: 'test-board', ramBytes: 512 * 1024 ** 2, flashBytes: 8 * 1024 ** 3, cpuMhz: 1500, int8Only: false, canTrain: true, cores: 4, arch: 'arm64',
};

/** Shapes of the tiny model: one dense layer 4 → 3 (kernel [4, 3], bias [3]), 15 parameters. */
export const TINY_SHAPES = [[4, 3], [3]] as const;

/** A TensorFlow.js layers model as `POST /v1/models/import` takes it: `model.json` and its weight bytes. */
export async function saveTfjsModel(model: tf.LayersModel): Promise<{ modelJson: Record<string, unknown>; weights: Uint8Array }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const data = saved!.weightData!;
  const weights = new Uint8Array(Array.isArray(data) ? Buffer.concat(data.map((b) => new Uint8Array(b))) : data);
  return {
    modelJson: { format: 'layers-model', generatedBy: 'test', modelTopology: saved!.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: saved!.weightSpecs }] },
    weights,
  };
}

export function tinyTfjsModel(): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
  const weights = [tf.tensor2d([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9], [1, -1.1, 1.2]]), tf.tensor1d([0.01, 0.02, -0.03])];
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** Imports the tiny model as `name`; returns its id and first version id. */
export async function importTinyModel(api: Api, name = 'tiny'): Promise<{ modelId: string; versionId: string }> {
  const model = tinyTfjsModel();
  const { modelJson, weights } = await saveTfjsModel(model);
  model.dispose();
  const response = await api<{ model: { id: string }; version: { id: string } }>('POST', '/v1/models/import', {
    name, modelJson, weightsBase64: Buffer.from(weights).toString('base64'),
  });
  if (response.status !== 201) throw new Error(`import failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { modelId: response.body.model.id, versionId: response.body.version.id };
}

/** The fp32 weights of a model version, downloaded as a ModelBlob. */
export async function downloadWeights(httpGet: (url: string) => Promise<Uint8Array>, modelId: string, version: number | string): Promise<ModelWeights> {
  return decodeModelBlob(await httpGet(`/v1/models/${modelId}/versions/${version}/artifact`)).weights;
}

/** A delta for the tiny model whose every value is `value` + i × `step`. */
export function tinyDelta(value: number, step = 0): ModelWeights {
  let i = 0;
  return TINY_SHAPES.map((shape, t) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let j = 0; j < size; j++) data[j] = value + step * i++;
    return { name: t === 0 ? 'dense/kernel' : 'dense/bias', shape: [...shape], data };
  });
}

/** FedAvg by hand: base + Σ nₖΔₖ / Σ nₖ, in float64, rounded to float32 like the stored model. */
export function fedAvg(base: ModelWeights, updates: { n: number; delta: ModelWeights }[]): Float32Array[] {
  const total = updates.reduce((s, u) => s + u.n, 0);
  return base.map((w, t) => {
    const out = new Float32Array(w.data.length);
    for (let i = 0; i < out.length; i++) {
      let sum = 0;
      for (const u of updates) sum += u.n * u.delta[t]!.data[i]!;
      out[i] = w.data[i]! + sum / total;
    }
    return out;
  });
}

export function fp32Tensors(delta: ModelWeights): TensorProps[] {
  return encodeWeights(delta, TensorEncoding.TENSOR_ENCODING_FP32);
}

export async function createToken(api: Api, body: Record<string, unknown> = {}): Promise<string> {
  const response = await api<{ token: string }>('POST', '/v1/enrollment-tokens', { maxUses: 100, ...body });
  if (response.status !== 201) throw new Error(`token: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.token;
}

export interface TrainTaskSeen {
  commandId: string;
  roundId: string;
  roundNumber: number;
  baseVersionId: string;
  deadlineAtMs: number;
}

/** An mqtt.js client acting as one enrolled device, with no agent behind it. */
export class RawDevice {
  readonly commands: CommandProps[] = [];
  client: MqttClient | undefined;

  private constructor(readonly creds: EnrollResponse, private mqttUrl: string, readonly profile: HardwareProfileProps) {}

  get deviceId(): string {
    return this.creds.deviceId;
  }

  static async enroll(
    api: Api, mqttUrl: string,
    options: { name: string; token: string; labels?: Record<string, string>; profile?: HardwareProfileProps },
  ): Promise<RawDevice> {
    const profile = options.profile ?? BOARD;
    const response = await api<EnrollResponse>('POST', '/v1/enroll', {
      token: options.token, name: options.name, profile, ...(options.labels ? { labels: options.labels } : {}),
    });
    if (response.status !== 201) throw new Error(`enroll ${options.name}: ${response.status} ${JSON.stringify(response.body)}`);
    const device = new RawDevice(response.body, mqttUrl, profile);
    onTestFinished(() => device.close());
    return device;
  }

  /** Connects (clean session, OFFLINE will), subscribes to its `cmd` and says ONLINE. */
  async connect(mqttUrl = this.mqttUrl): Promise<void> {
    this.mqttUrl = mqttUrl;
    const { deviceId } = this;
    const client = await mqtt.connectAsync(mqttUrl, {
      clientId: this.creds.clientId, username: this.creds.username, password: this.creds.password,
      reconnectPeriod: 0, connectTimeout: 5000, clean: true, protocolVersion: 4,
      will: { topic: deviceTopic(deviceId, 'status'), payload: Buffer.from(encodeEnvelope({ deviceId, status: { state: DeviceState.DEVICE_STATE_OFFLINE } })), qos: 1, retain: true },
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/cmd')) return;
      const envelope = decodeEnvelope(payload, { topicKind: 'cmd' });
      if (envelope.command) this.commands.push(envelope.command);
    });
    await client.subscribeAsync(deviceTopic(deviceId, 'cmd'), { qos: 1 });
    await this.publish('status', { status: { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: 'raw/1', profile: this.profile, heartbeatSec: 10 } }, { retain: true });
  }

  /** Drops the TCP connection (no DISCONNECT). */
  drop(): void {
    this.client?.stream.destroy();
    this.client = undefined;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.endAsync(true).catch(() => {});
  }

  /** Encodes and publishes one envelope body on one of its topics (QoS 1); returns the exact bytes sent. */
  async publish(
    kind: 'status' | 'update' | 'reply', body: Omit<EnvelopeProps, 'deviceId'>, options: IClientPublishOptions & { msgId?: string } = {},
  ): Promise<Uint8Array> {
    const { msgId, ...publishOptions } = options;
    const bytes = encodeEnvelope({ ...body, deviceId: this.deviceId, ...(msgId ? { msgId } : {}) });
    await this.publishBytes(kind, bytes, publishOptions);
    return bytes;
  }

  /** Publishes bytes as they are (QoS 1 unless told otherwise); resolves on PUBACK, i.e. once the hub handled them. */
  async publishBytes(kind: 'status' | 'update' | 'reply', bytes: Uint8Array, options: IClientPublishOptions = {}): Promise<void> {
    if (!this.client) throw new Error(`${this.creds.name} is not connected`);
    await this.client.publishAsync(deviceTopic(this.deviceId, kind), Buffer.from(bytes), { qos: 1, ...options });
  }

  /** The train task of a round (the first one seen when `roundId` is not given). */
  async trainTask(roundId?: string, timeoutMs = 5000): Promise<TrainTaskSeen> {
    const command = await waitFor(
      () => this.commands.find((c) => c.train && (!roundId || c.train.roundId === roundId)),
      timeoutMs, `train task for ${this.creds.name}`,
    );
    const train = command.train!;
    return {
      commandId: command.commandId!, roundId: train.roundId!, roundNumber: train.roundNumber!,
      baseVersionId: train.baseModel!.versionId!, deadlineAtMs: Number(train.deadlineAtMs),
    };
  }

  /** Cancel commands received for a train command. */
  cancelsFor(commandId: string): CommandProps[] {
    return this.commands.filter((c) => c.cancel?.targetCommandId === commandId);
  }

  async reply(commandId: string, code: number, extras: Omit<CommandResultProps, 'commandId' | 'code'> = {}): Promise<void> {
    await this.publish('reply', { commandResult: { commandId, code, ...extras } });
  }

  async accept(task: TrainTaskSeen): Promise<void> {
    await this.reply(task.commandId, ResultCode.RESULT_CODE_ACCEPTED, { roundId: task.roundId });
  }

  /** A WeightUpdate answering `task`, with any field overridden. */
  update(task: TrainTaskSeen, delta: ModelWeights, exampleCount: number, overrides: Partial<WeightUpdateProps> = {}): WeightUpdateProps {
    return {
      roundId: task.roundId, commandId: task.commandId, baseVersionId: task.baseVersionId, exampleCount,
      tensors: fp32Tensors(delta), metrics: { trainLoss: 0.5, accuracyBefore: 0.1, accuracyAfter: 0.2 }, ...overrides,
    };
  }

  async sendUpdate(update: WeightUpdateProps, options: IClientPublishOptions & { msgId?: string } = {}): Promise<Uint8Array> {
    return this.publish('update', { weightUpdate: update }, options);
  }
}

export async function getCampaign(api: Api, id: string): Promise<CampaignDetailJson> {
  const response = await api<CampaignDetailJson>('GET', `/v1/rounds/${id}`);
  if (response.status !== 200) throw new Error(`GET /v1/rounds/${id}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function startCampaign(api: Api, body: Record<string, unknown>): Promise<CampaignDetailJson> {
  const response = await api<CampaignDetailJson>('POST', '/v1/rounds', body);
  if (response.status !== 201) throw new Error(`POST /v1/rounds: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Polls the campaign until `check` holds; the timeout error shows where it stood. */
export async function waitForCampaign(
  api: Api, id: string, check: (c: CampaignDetailJson) => boolean, timeoutMs: number, what: string,
): Promise<CampaignDetailJson> {
  let last: CampaignDetailJson | undefined;
  try {
    return await waitFor(async () => {
      last = await getCampaign(api, id);
      return check(last) ? last : undefined;
    }, timeoutMs, what);
  } catch (error) {
    const rounds = last?.rounds.map((r) => ({
      n: r.number, state: r.state, error: r.error, rejections: r.rejections,
      participants: r.participants.map((p) => `${p.deviceName}:${p.state}${p.reason ? `(${p.reason})` : ''}`),
    }));
    throw new Error(`${(error as Error).message}; campaign ${last?.state} ${last?.error ?? ''} ${JSON.stringify(rounds)}`);
  }
}

/** The participant row of a device in a round of a campaign view. */
export function participantOf(campaign: CampaignDetailJson, round: number, deviceId: string) {
  return campaign.rounds.find((r) => r.number === round)?.participants.find((p) => p.deviceId === deviceId);
}

/** An in-process test hub (real TCP MQTT, SQLite in a temp dir) with the tiny model imported as `tiny`. */
export async function startRoundHub(options: Parameters<typeof startTestHub>[0] = {}) {
  const testHub = await startTestHub(options);
  const api: Api = (method, url, body) => testHub.api(method, url, body);
  const httpGet = async (url: string): Promise<Uint8Array> => {
    const response = await testHub.hub.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode} ${response.body}`);
    return new Uint8Array(response.rawPayload);
  };
  const model = await importTinyModel(api);
  const token = await createToken(api);
  const enroll = async (name: string, options: { labels?: Record<string, string>; profile?: HardwareProfileProps; connect?: boolean } = {}) => {
    const device = await RawDevice.enroll(api, testHub.mqttUrl, { name, token, ...options });
    if (options.connect !== false) await device.connect();
    return device;
  };
  /** Resolves once the hub counts `deviceIds` online (selection only considers online devices). */
  const online = async (deviceIds: string[]) => waitFor(async () => {
    const listed = await api<{ id: string }[]>('GET', '/v1/devices?status=online&limit=1000');
    return deviceIds.every((id) => listed.body.some((d) => d.id === id));
  }, 5000, 'devices online');
  return { testHub, api, httpGet, model, token, enroll, online };
}
