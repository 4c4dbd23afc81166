/**
 * Int8 on simulated devices over the real hub's MQTT broker (issue 9 items 2 and 3): Raspberry Pi sims answer a
 * CalibrateTask with statistics whose merge equals central calibration on the union of their data; an mcu-m4 sim
 * evaluates the int8 .tflite built from them integer-only, reports its estimated latency, and refuses float work.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { mnistDataSource } from '@fedfleet/agent/ml';
import { evaluateInt8Graph } from '@fedfleet/agent/training';
import { SimFleet, simProfile } from '@fedfleet/firmware-sim';
import {
  ResultCode, TensorEncoding, buildInt8Graph, calibrationStatsFromWire, collectCalibrationStats, encodeModelBlob,
  encodeTfliteInt8, floatModelFromTopology, mergeCalibrationStats, rangesFromStats,
  type CommandProps, type EnvelopeProps, type McuFit, type ModelRefProps,
} from '@fedfleet/proto';
import { smallMlp } from '../../agent/test/ml/fixtures.js';
import { createToken, waitFor } from '../../hub/test/helpers/devices.js';
import { startTestHub, type TestHub } from '../../hub/test/helpers/test-hub.js';

const DATA = 'mnist:iid';
const SEED = 3;
const BINS = 256;
const MAX_EXAMPLES = 150;

async function startFleet(testHub: TestHub, profile: string, devices: number): Promise<SimFleet> {
  const { token } = await createToken(testHub, { maxUses: devices });
  const fleet = new SimFleet({ hubUrl: testHub.httpUrl, enrollmentToken: token, devices, profile: simProfile(profile), data: DATA, seed: SEED, namePrefix: profile, heartbeatSec: 30 });
  onTestFinished(() => fleet.stop());
  await fleet.start();
  return fleet;
}

async function putArtifact(testHub: TestHub, bytes: Uint8Array, extra: ModelRefProps): Promise<ModelRefProps> {
  const { sha256, sizeBytes } = await testHub.hub.store.blobs.put(bytes, 'application/octet-stream');
  return { modelId: 'm-1', sha256, sizeBytes, ...extra };
}

describe('int8 on simulated devices', () => {
  it('Pi sims calibrate (merge = central on the union), an mcu-m4 sim evaluates the int8 .tflite and refuses float work', async () => {
    const testHub = await startTestHub();
    const replies: Array<{ deviceId: string; envelope: EnvelopeProps }> = [];
    onTestFinished(testHub.hub.broker.router.on('reply', ({ deviceId, envelope }) => void replies.push({ deviceId, envelope })));
    const pis = await startFleet(testHub, 'rpi4', 2);
    const mcus = await startFleet(testHub, 'mcu-m4', 1);
    const fits: McuFit[] = [];
    mcus.on('modelFit', ({ fit }) => fits.push(fit));
    // Through the commands capability, as the hub's own senders: it grants the device the artifact the command names.
    const send = (fleet: SimFleet, index: number, command: CommandProps & { commandId: string }) => testHub.hub.commands.notify(fleet.devices[index]!.agent.deviceId!, command);
    const resultOf = (commandId: string) => waitFor(() => replies.find((r) => r.envelope.commandResult?.commandId === commandId)?.envelope.commandResult, 20_000, `result of ${commandId}`);

    // 1. Federated calibration of a float model on the two Pis.
    const mlp = smallMlp(4, 16);
    const floatRef = await putArtifact(testHub, encodeModelBlob(mlp, TensorEncoding.TENSOR_ENCODING_FP32), { versionId: 'v-1', format: 'tfjs-layers' });
    for (const index of [0, 1]) {
      await send(pis, index, { commandId: `cal-${index}`, calibrate: { jobId: 'job-1', model: floatRef, histogramBins: BINS, maxExamples: MAX_EXAMPLES } });
    }
    for (const index of [0, 1]) expect(await resultOf(`cal-${index}`)).toMatchObject({ code: ResultCode.RESULT_CODE_DONE });
    const reports = [0, 1].map((index) => replies.find((r) => r.envelope.calibrationReport?.commandId === `cal-${index}`)!);
    expect(reports.map((r) => r.deviceId)).toEqual(pis.devices.map((d) => d.agent.deviceId));
    const merged = mergeCalibrationStats(reports.map((r) => calibrationStatsFromWire(r.envelope.calibrationReport!)), { bins: BINS });

    const model = floatModelFromTopology(mlp.topologyJson, mlp.weights);
    const union = [0, 1].flatMap((index) => {
      const train = mnistDataSource({ devices: 2, index, partition: 'iid', seed: SEED }).train();
      return Array.from({ length: MAX_EXAMPLES }, (_, i) => train.x.subarray(i * 784, (i + 1) * 784));
    });
    expect(merged).toEqual(collectCalibrationStats(model, union, { bins: BINS }));

    // 2. The int8 model built from the fleet's statistics, evaluated integer-only by the microcontroller.
    const graph = buildInt8Graph(model, rangesFromStats(merged));
    const int8Ref = await putArtifact(testHub, encodeTfliteInt8(graph), { versionId: 'v-1-int8', format: 'tflite', encoding: TensorEncoding.TENSOR_ENCODING_INT8 });
    await send(mcus, 0, { commandId: 'eval-int8', eval: { roundId: 'r-1', model: int8Ref } });
    expect(await resultOf('eval-int8')).toMatchObject({ code: ResultCode.RESULT_CODE_DONE });
    const evalResult = replies.find((r) => r.envelope.evalResult?.commandId === 'eval-int8')!.envelope.evalResult!;
    const expected = evaluateInt8Graph(graph, mnistDataSource({ devices: 1, index: 0, partition: 'iid', seed: SEED }).test());
    expect(evalResult).toMatchObject({ versionId: 'v-1-int8', exampleCount: expected.count, accuracy: Math.fround(expected.accuracy) });
    expect(fits).toEqual([expect.objectContaining({ profile: 'mcu-m4', fits: true, macs: 784 * 16 + 16 * 10 })]);
    expect(fits[0]!.estLatencyMs).toBeGreaterThan(0);

    // 3. The microcontroller has data but no float kernels and no training runtime.
    await send(mcus, 0, { commandId: 'eval-float', eval: { roundId: 'r-1', model: floatRef } });
    await send(mcus, 0, { commandId: 'cal-mcu', calibrate: { jobId: 'job-1', model: floatRef } });
    await send(mcus, 0, { commandId: 'train-mcu', train: { roundId: 'r-2', baseModel: floatRef } });
    for (const commandId of ['eval-float', 'cal-mcu']) {
      expect(await resultOf(commandId)).toMatchObject({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_CANNOT_RUN_FLOAT' });
    }
    expect(await resultOf('train-mcu')).toMatchObject({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_CANNOT_TRAIN' });
  }, 60_000);
});
