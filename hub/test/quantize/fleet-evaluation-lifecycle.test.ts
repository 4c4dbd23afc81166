/**
 * The fleet evaluation of a quantization job's int8 file, driven by raw MQTT devices so every answer is exact: who is
 * asked (int8-only devices included, busy or unmatched ones not) and with what ModelRef, how results are weighed,
 * refusals kept with their numbers and nonsense rejected with a code, the end at the deadline, a hub restarted in the
 * middle (the job ends done, the evaluation `interrupted`), and the opt-outs and selectors of the request.
 */
import { describe, expect, it } from 'vitest';
import { ResultCode, TensorEncoding, type CommandProps, type EvalResultProps } from '@fedfleet/proto';
import { createManualClock } from '../../src/clock.js';
import type { QuantizationDetailJson } from '../../src/quantize/schemas.js';
import { uploadDataset } from '../helpers/datasets.js';
import { startTestHub, tempDataDir } from '../helpers/test-hub.js';
import {
  BOARD, startCampaign, startRoundHub, tinyDelta, waitFor, waitForCampaign, type Api, type RawDevice,
} from '../rounds/round-helpers.js';
import {
  calibrateTask, finished, floatModelOf, getQuantization, importTwoLayerModel, partition, reportOf, sendReport, startQuantization,
} from './quantize-helpers.js';

const MCU = { ...BOARD, kind: 'mcu-test', int8Only: true, canTrain: false };
const TOO_LARGE = 'int8 model on mcu-test: needs 12.0 KiB (12288 bytes) flash, profile has 8 KiB (8192 bytes)';

/** The eval task a device received. */
async function evalTask(device: RawDevice): Promise<CommandProps & { commandId: string }> {
  const command = await waitFor(() => device.commands.find((c) => c.eval), 5000, `eval task for ${device.creds.name}`);
  return command as CommandProps & { commandId: string };
}

function sendEval(device: RawDevice, commandId: string, result: Omit<EvalResultProps, 'commandId'>): Promise<Uint8Array> {
  return device.publish('reply', { evalResult: { commandId, ...result } });
}

/** A fleet job on `calibrators` (site=x), each reporting on a few examples, left evaluating. */
async function evaluatingJob(setup: Awaited<ReturnType<typeof startRoundHub>>, calibrators: RawDevice[], body: Record<string, unknown> = {}) {
  const model = await floatModelOf(setup.testHub.hub, (await importTwoLayerModel(setup.api)).versionId);
  const job = await startQuantization(setup.api, 'two-layer', 1, { calibrate: 'fleet', selector: 'site=x', minDevices: 1, deadlineSec: 30, evaluate: true, ...body });
  for (const [i, device] of calibrators.entries()) await sendReport(device, reportOf(model, await calibrateTask(device, job.id), partition(i + 1, 5, 0, 1)));
  await waitFor(async () => (await getQuantization(setup.api, job.id)).state === 'evaluating', 5000, 'evaluating');
  return getQuantization(setup.api, job.id);
}

describe('the fleet evaluation of a quantization job', () => {
  it('asks the idle matching devices, int8-only ones too, with the stored .tflite; weighs results by examples, keeps refusals, rejects nonsense', async () => {
    const setup = await startRoundHub();
    const { testHub, api, enroll, online } = setup;
    const [a, b, c] = [await enroll('a', { labels: { site: 'x' } }), await enroll('b', { labels: { site: 'x' } }), await enroll('c', { labels: { site: 'x' } })];
    const mcu = await enroll('mcu', { labels: { site: 'x' }, profile: MCU });
    const elsewhere = await enroll('elsewhere', { labels: { site: 'y' } });
    await online([a, b, c, mcu, elsewhere].map((d) => d.deviceId));
    const events: string[] = [];
    testHub.hub.events.onAny((name) => void (name.startsWith('quantization.') && events.push(name)));

    const job = await evaluatingJob(setup, [a, b, c]);
    // The microcontroller cannot calibrate a float model, but it runs the int8 file.
    expect(mcu.commands.some((cmd) => cmd.calibrate)).toBe(false);
    expect(job).toMatchObject({ state: 'evaluating', evaluate: { selector: 'site=x' }, fleetEval: { state: 'evaluating', devicesAsked: 4, devices: 0, accuracy: null } });
    const [ta, tb, tc, tm] = await Promise.all([a, b, c, mcu].map(evalTask));
    expect(ta!.eval!.model).toMatchObject({
      versionId: job.versionId, format: 'tflite', encoding: TensorEncoding.TENSOR_ENCODING_INT8, sha256: job.artifact!.sha256, sizeBytes: job.artifact!.sizeBytes,
    });
    expect(Number(ta!.eval!.deadlineAtMs)).toBe(Date.parse(job.fleetEval!.deadlineAt!));
    expect(elsewhere.commands).toEqual([]);

    await sendEval(a, ta!.commandId, { exampleCount: 30, accuracy: 0.75, loss: 0.5 });
    await sendEval(a, ta!.commandId, { exampleCount: 1000, accuracy: 0, loss: 9 }); // a second answer counts for nothing
    await sendEval(b, tb!.commandId, { exampleCount: 10, accuracy: 0.25, loss: 1.5 });
    await sendEval(c, tc!.commandId, { exampleCount: 10, accuracy: 1.5, loss: 0.1 });
    expect((await getQuantization(api, job.id)).state).toBe('evaluating');
    await mcu.reply(tm!.commandId, ResultCode.RESULT_CODE_REFUSED, { errorCode: 'AGENT_ERR_MODEL_TOO_LARGE', reason: TOO_LARGE });

    const done = await finished(api, job.id);
    // (30 × 0.75 + 10 × 0.25) / 40; c's accuracy is no accuracy, a's repeat no answer.
    expect(done).toMatchObject({
      state: 'done', fleetEval: {
        state: 'done', devicesAsked: 4, devices: 2, examples: 40, accuracy: 0.625, loss: 0.75,
        refused: [{ deviceId: mcu.deviceId, code: 'AGENT_ERR_MODEL_TOO_LARGE', reason: TOO_LARGE }],
      },
    });
    const byDevice = new Map(done.evalDevices.map((d) => [d.deviceId, d]));
    expect(byDevice.get(a.deviceId)).toMatchObject({ state: 'evaluated', exampleCount: 30, accuracy: 0.75, loss: 0.5 });
    expect(byDevice.get(c.deviceId)).toMatchObject({ state: 'rejected', reasonCode: 'HUB_ERR_EVAL_RESULT_INVALID', reason: 'accuracy 1.5 is not in [0, 1]' });
    expect(byDevice.get(mcu.deviceId)).toMatchObject({ state: 'refused', reasonCode: 'AGENT_ERR_MODEL_TOO_LARGE' });
    expect(events.slice(-2)).toEqual(['quantization.evaluated', 'quantization.completed']);
    for (const d of [a, b, c, mcu]) expect(testHub.hub.commands.owedTo(d.deviceId)).toEqual([]);
    expect(testHub.hub.quantizations.latestDone(done.versionId)?.id).toBe(job.id);
  });

  it('is on by default for fleet calibration and ends at the deadline with no-results: the silent devices cancelled and told so', async () => {
    const clock = createManualClock();
    const setup = await startRoundHub({ clock });
    const a = await setup.enroll('a', { labels: { site: 'x' } });
    await setup.online([a.deviceId]);
    const model = await floatModelOf(setup.testHub.hub, (await importTwoLayerModel(setup.api)).versionId);
    const started = await setup.api<QuantizationDetailJson>('POST', '/v1/models/two-layer/versions/1/quantizations', { calibrate: 'fleet', selector: 'site=x', deadlineSec: 10 });
    expect(started.body.evaluate).toEqual({ selector: 'site=x' });
    await sendReport(a, reportOf(model, await calibrateTask(a, started.body.id), partition(1, 5, 0, 1)));
    const task = await evalTask(a);
    const evaluating = await getQuantization(setup.api, started.body.id);
    expect(evaluating.fleetEval!.deadlineAt).toBe(new Date(clock.now() + 10_000).toISOString());

    clock.advance(9_999);
    expect((await getQuantization(setup.api, started.body.id)).state).toBe('evaluating');
    clock.advance(1);
    const done = await finished(setup.api, started.body.id);
    expect(done).toMatchObject({ state: 'done', fleetEval: { state: 'no-results', devicesAsked: 1, devices: 0, examples: 0, accuracy: null, refused: [] } });
    expect(done.evalDevices).toMatchObject([{ deviceId: a.deviceId, state: 'cancelled', reason: 'the evaluation ended before this device answered' }]);
    await waitFor(() => a.cancelsFor(task.commandId).length > 0, 5000, 'cancel of the eval task');
    expect(setup.testHub.hub.commands.owedTo(a.deviceId)).toEqual([]);
  });

  it('a hub restarted while the job evaluates ends it done, the evaluation interrupted with the results it had', async () => {
    const dataDir = tempDataDir();
    const first = await startRoundHub({ dataDir });
    const [a, b] = [await first.enroll('a', { labels: { site: 'x' } }), await first.enroll('b', { labels: { site: 'x' } })];
    await first.online([a.deviceId, b.deviceId]);
    const job = await evaluatingJob(first, [a, b], { deadlineSec: 600 });
    const [ta, tb] = await Promise.all([evalTask(a), evalTask(b)]);
    await sendEval(a, ta!.commandId, { exampleCount: 20, accuracy: 0.5, loss: 1 });
    await first.testHub.hub.close();

    const second = await startTestHub({ dataDir });
    const api: Api = (method, url, body) => second.api(method, url, body);
    const done = await getQuantization(api, job.id);
    expect(done).toMatchObject({
      state: 'done', artifact: job.artifact, fleetEval: { state: 'interrupted', devicesAsked: 2, devices: 1, examples: 20, accuracy: 0.5 },
    });
    expect(done.finishedAt).toBeDefined();
    expect(done.evalDevices.find((d) => d.deviceId === b.deviceId)).toMatchObject({ state: 'cancelled', reason: 'the hub stopped during the evaluation' });
    expect(second.hub.quantizations.latestDone(job.versionId)?.id).toBe(job.id);
    // b answers the new hub: nobody is owed that command any more.
    await b.connect(second.mqttUrl);
    await sendEval(b, tb!.commandId, { exampleCount: 20, accuracy: 1, loss: 0 });
    expect(await getQuantization(api, job.id)).toEqual(done);
  });

  it('a data set calibration evaluates only when asked, on the devices its selector names; evaluate: false and bad selectors', async () => {
    const setup = await startRoundHub();
    const a = await setup.enroll('a', { labels: { site: 'x' } });
    await setup.online([a.deviceId]);
    await importTwoLayerModel(setup.api);
    const examples = partition(7, 12, 0, 1);
    const x = new Float32Array(examples.length * 4);
    examples.forEach((e, i) => x.set(e, i * 4));
    await uploadDataset(setup.api, { name: 'calib', inputShape: [4], numClasses: 3, x, y: new Uint8Array(examples.length) });
    const run = async (body: Record<string, unknown>) => finished(setup.api, (await startQuantization(setup.api, 'two-layer', 1, { calibrate: 'dataset:calib', ...body })).id);

    // `evaluate: undefined` drops the helper's opt-out: the request's own default.
    const plain = await run({ evaluate: undefined });
    expect(plain).toMatchObject({ state: 'done', evaluate: null, evalDevices: [] });
    expect(plain.fleetEval).toBeUndefined();
    expect(await run({ evaluate: { selector: 'site=nowhere' } })).toMatchObject({ state: 'done', fleetEval: { state: 'no-devices', devicesAsked: 0, accuracy: null } });
    const fleetOff = await startQuantization(setup.api, 'two-layer', 1, { calibrate: 'fleet', evaluate: false });
    await sendReport(a, reportOf(await floatModelOf(setup.testHub.hub, fleetOff.versionId), await calibrateTask(a, fleetOff.id), examples));
    expect(await finished(setup.api, fleetOff.id)).toMatchObject({ state: 'done', evaluate: null, evalDevices: [] });
    expect(a.commands.some((cmd) => cmd.eval)).toBe(false);

    const asked = await startQuantization(setup.api, 'two-layer', 1, { calibrate: 'dataset:calib', evaluate: { selector: 'site=x' } });
    await sendEval(a, (await evalTask(a)).commandId, { exampleCount: 4, accuracy: 0.5, loss: 1 });
    expect(await finished(setup.api, asked.id)).toMatchObject({ fleetEval: { state: 'done', devices: 1, accuracy: 0.5 } });

    const post = (evaluate: unknown) => setup.api<{ error: { code: string } }>('POST', '/v1/models/two-layer/versions/1/quantizations', { calibrate: 'dataset:calib', evaluate });
    expect((await post({ selector: '=x' })).body.error.code).toBe('HUB_ERR_BAD_SELECTOR');
    expect((await post('yes')).body.error.code).toBe('HUB_ERR_VALIDATION');
    expect((await post({ selector: 'a=b', extra: 1 })).body.error.code).toBe('HUB_ERR_VALIDATION');
  });

  it('a campaign\'s quantize carries its evaluate to the job it starts; a bad evaluate selector refuses the campaign', async () => {
    const { api, enroll, online } = await startRoundHub();
    const a = await enroll('a', { labels: { site: 'x' } });
    await online([a.deviceId]);
    await uploadDataset(api, { name: 'calib', inputShape: [4], numClasses: 3, x: new Float32Array(16).map((_, i) => Math.sin(i)), y: new Uint8Array(4) });
    const oneRound = { model: 'tiny', rounds: 1, clients: 1, minClients: 1, overSelect: 1, evaluate: false };
    const bad = await api<{ error: { code: string } }>('POST', '/v1/rounds', { ...oneRound, quantize: { calibrate: 'dataset:calib', evaluate: { selector: '=x' } } });
    expect(bad.body.error.code).toBe('HUB_ERR_BAD_SELECTOR');

    const campaign = await startCampaign(api, { ...oneRound, quantize: { calibrate: 'dataset:calib', evaluate: { selector: 'site=x' } } });
    expect(campaign.config.quantize).toMatchObject({ evaluate: { selector: 'site=x' } });
    const task = await a.trainTask();
    await a.sendUpdate(a.update(task, tinyDelta(0.01), 10));
    const completed = await waitForCampaign(api, campaign.id, (c) => c.quantization?.state === 'started', 5000, 'quantization started');
    await sendEval(a, (await evalTask(a)).commandId, { exampleCount: 8, accuracy: 0.25, loss: 2 });
    expect(await finished(api, completed.quantization!.jobId!)).toMatchObject({ evaluate: { selector: 'site=x' }, fleetEval: { state: 'done', devices: 1, accuracy: 0.25 } });
  });
});
