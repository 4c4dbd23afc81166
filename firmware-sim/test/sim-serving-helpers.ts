/**
 * Helpers of the simulated-fleet serving tests: a real hub with a 2NN and trained versions quantized to int8, simulated
 * fleets, and DeployModel / RollbackModel commands sent through the hub's commands capability (no rollout engine),
 * with every reply and telemetry the devices send collected.
 */
import { onTestFinished } from 'vitest';
import { initBackend, mnistGlobal, mulberry32, permutation, subsetDataset, trainLocal } from '@fedfleet/agent/ml';
import {
  DeployMode, DeployPhase, ResultCode,
  type CommandProps, type DeployReportProps, type TelemetryProps,
} from '@fedfleet/proto';
import type { BundleBuild } from '../../hub/src/models/bundle-builder.js';
import type { CommandReply } from '../../hub/src/commands/device-commands.js';
import { uploadDataset } from '../../hub/test/helpers/datasets.js';
import { createToken, waitFor } from '../../hub/test/helpers/devices.js';
import { finished, startQuantization } from '../../hub/test/quantize/quantize-helpers.js';
import { startTestHub, type StartTestHubOptions, type TestHub } from '../../hub/test/helpers/test-hub.js';
import { SimFleet, type SimFleetOptions, type SimProfile } from '../src/index.js';

export const OWNER = 'sim-serving-test';
export const MODEL = 'mlp';

export interface Seen {
  deviceId: string;
  commandId: string;
  reply: CommandReply;
}

export interface ServingHub {
  testHub: TestHub;
  /** Version ids by registry version number (1 = the seeded initial weights, 2… trained). */
  versions: string[];
  replies: Seen[];
  telemetry: Array<{ deviceId: string; telemetry: TelemetryProps }>;
}

/**
 * Which training digits a version learns from, taken in a seeded random order: `label` with `seenOfLabel` digits of
 * that label met before it (kept or not). Default: every digit.
 */
export type KeepDigit = (label: number, seenOfLabel: number) => boolean;

/**
 * Trains `parent` for one epoch on the first `count` MNIST training digits in a seeded order that `keep` accepts and
 * registers the result as the next version.
 */
export async function addTrainedVersion(testHub: TestHub, parentVersionId: string, seed: number, count: number, keep: KeepDigit = () => true): Promise<string> {
  const { models } = testHub.hub;
  await initBackend();
  const parent = models.getVersion(parentVersionId);
  const content = await models.loadContent(parentVersionId);
  const { train, test } = mnistGlobal();
  const seen = new Map<number, number>();
  const picked: number[] = [];
  for (const index of permutation(train.count, mulberry32(seed))) {
    if (picked.length === count) break;
    const label = train.y[index]!;
    const seenOfLabel = seen.get(label) ?? 0;
    seen.set(label, seenOfLabel + 1);
    if (keep(label, seenOfLabel)) picked.push(index);
  }
  const slice = subsetDataset(train, picked);
  const result = await trainLocal({
    ...content, data: { train: slice, test: subsetDataset(test, [0]) }, epochs: 1, batchSize: 20, learningRate: 0.1, seed, evaluate: false,
  });
  const version = await models.addRoundVersion({ modelId: parent.modelId, parentVersionId, weights: result.weights });
  return version!.id;
}

/**
 * A hub with the built-in 2NN (`mlp`) and `trained` versions after the initial one, each trained on its own digits
 * and quantized to int8 on 64 training digits; every reply to this test's commands and every telemetry is collected.
 * `hubOptions` configure the hub (e.g. a small `maxPayloadBytes`, a `publicMqttUrl` behind a fault-injecting proxy).
 */
export async function servingHub(trained: number, hubOptions: StartTestHubOptions = {}): Promise<ServingHub> {
  const testHub = await startTestHub(hubOptions);
  const created = await testHub.api<{ version: { id: string } }>('POST', '/v1/models', { name: MODEL, architecture: 'mnist-2nn' });
  if (created.status !== 201) throw new Error(`create model: ${created.status} ${JSON.stringify(created.body)}`);
  const versions = [created.body.version.id];
  for (let i = 0; i < trained; i++) versions.push(await addTrainedVersion(testHub, versions.at(-1)!, 11 + i, 2000));
  const calibration = subsetDataset(mnistGlobal().train, Array.from({ length: 64 }, (_, i) => i));
  await uploadDataset(testHub.api, { name: 'digits', inputShape: [784], numClasses: 10, x: calibration.x, y: calibration.y });
  for (let n = 2; n <= versions.length; n++) await quantizeVersion(testHub, n);
  const replies: Seen[] = [];
  onTestFinished(testHub.hub.commands.onReply(OWNER, (reply, sent) => {
    replies.push({ deviceId: sent.deviceId, commandId: sent.command.commandId, reply });
  }));
  const telemetry: ServingHub['telemetry'] = [];
  onTestFinished(testHub.hub.broker.router.on('telemetry', ({ deviceId, envelope }) => {
    if (envelope.telemetry) telemetry.push({ deviceId, telemetry: envelope.telemetry });
  }));
  return { testHub, versions, replies, telemetry };
}

/** Quantizes version `n` of the model to int8, calibrated on the hub's 64 `digits` (uploaded by {@link servingHub}). */
export async function quantizeVersion(testHub: TestHub, n: number): Promise<void> {
  const job = await startQuantization(testHub.api, MODEL, n, { calibrate: 'dataset:digits' });
  const done = await finished(testHub.api, job.id, 20_000);
  if (done.state !== 'done') throw new Error(`quantization of version ${n}: ${JSON.stringify(done)}`);
}

/** A started fleet of `devices` devices of one profile on MNIST (each holds the whole held-out split), stopped after the test. */
export async function startFleet(testHub: TestHub, profile: SimProfile, devices: number, extra: Partial<SimFleetOptions> = {}): Promise<SimFleet> {
  const { token } = await createToken(testHub, { maxUses: devices });
  const fleet = new SimFleet({
    hubUrl: testHub.httpUrl, enrollmentToken: token, devices, profile, data: 'mnist:iid', seed: 3, namePrefix: profile.kind,
    heartbeatSec: 1, ...extra,
  });
  onTestFinished(() => fleet.stop());
  await fleet.start();
  return fleet;
}

export function deployCommand(commandId: string, build: BundleBuild, mode: number = DeployMode.DEPLOY_MODE_ACTIVATE): CommandProps & { commandId: string } {
  return {
    commandId,
    deploy: { rolloutId: 'test-rollout', model: build.payload, manifest: build.manifestBytes, signature: build.signature, mode },
  };
}

export function rollbackCommand(commandId: string, fromVersionId: string): CommandProps & { commandId: string } {
  return { commandId, rollback: { rolloutId: 'test-rollout', fromVersionId, reason: 'test' } };
}

/** The id a command named `name` has on `deviceId`: the hub owes commands by id, so ids are unique per device. */
const commandIdOn = (name: string, deviceId: string): string => `${name}@${deviceId}`;

/** Sends through the hub's commands capability, as the rollout engine does. */
export function send(hub: ServingHub, deviceId: string, command: CommandProps & { commandId: string }): Promise<void> {
  return hub.testHub.hub.commands.send({ owner: OWNER, key: 'test', deviceId, command: { ...command, commandId: commandIdOn(command.commandId, deviceId) } });
}

/** The first DeployReport to the command `name` from `deviceId` in `phase` (and matching `where`). */
export function report(hub: ServingHub, deviceId: string, name: string, phase: number, where: (r: DeployReportProps) => boolean = () => true): Promise<DeployReportProps> {
  const commandId = commandIdOn(name, deviceId);
  return waitFor(() => hub.replies.find((s) => s.deviceId === deviceId && s.commandId === commandId && s.reply.kind === 'deploy'
    && s.reply.report.phase === phase && where(s.reply.report))?.reply, 30_000, `${DeployPhase[phase]} of ${commandId} from ${deviceId}`)
    .then((reply) => (reply as Extract<CommandReply, { kind: 'deploy' }>).report);
}

/** The final CommandResult (not ACCEPTED) to the command `name` from `deviceId`. */
export function finalResult(hub: ServingHub, deviceId: string, name: string) {
  const commandId = commandIdOn(name, deviceId);
  return waitFor(() => hub.replies.find((s) => s.deviceId === deviceId && s.commandId === commandId && s.reply.kind === 'result'
    && s.reply.result.code !== ResultCode.RESULT_CODE_ACCEPTED)?.reply, 30_000, `result of ${commandId} from ${deviceId}`)
    .then((reply) => (reply as Extract<CommandReply, { kind: 'result' }>).result);
}

/** The device as the hub's API shows it (its last Status). */
export async function deviceView(hub: ServingHub, deviceId: string): Promise<{ activeVersionId: string | null; activeSha256: string | null; previousVersionId: string | null; shadowVersionId?: string | null }> {
  return (await hub.testHub.api<never>('GET', `/v1/devices/${deviceId}`)).body;
}
