/**
 * How fleet calibration ends on a manual clock: at the deadline it builds with the reports it has when they are
 * at least minDevices, and fails with a code when they are fewer; devices that never answered are cancelled and told
 * so, refusals are recorded with the device's own code, and nothing stays owed.
 */
import { describe, expect, it } from 'vitest';
import { ResultCode } from '@fedfleet/proto';
import { createManualClock } from '../../src/clock.js';
import { startRoundHub, waitFor } from '../rounds/round-helpers.js';
import {
  calibrateTask, finished, floatModelOf, getQuantization, importTwoLayerModel, partition, reportOf, sendReport, sendResult, startQuantization,
} from './quantize-helpers.js';

async function threeDevices(options: { minDevices: number }) {
  const clock = createManualClock();
  const setup = await startRoundHub({ clock });
  const { versionId } = await importTwoLayerModel(setup.api);
  const model = await floatModelOf(setup.testHub.hub, versionId);
  const devices = [await setup.enroll('a'), await setup.enroll('b'), await setup.enroll('c')];
  await setup.online(devices.map((d) => d.deviceId));
  const job = await startQuantization(setup.api, 'two-layer', 1, { calibrate: 'fleet', deadlineSec: 10, ...options });
  const tasks = await Promise.all(devices.map((d) => calibrateTask(d, job.id)));
  return { ...setup, clock, model, devices, tasks, job };
}

describe('the end of fleet calibration', () => {
  it('fails at the deadline with HUB_ERR_QUANTIZATION_TOO_FEW_REPORTS when fewer than minDevices reported', async () => {
    const { api, clock, model, devices, tasks, job, testHub } = await threeDevices({ minDevices: 2 });
    const [a, b, c] = devices;
    await sendReport(a!, reportOf(model, tasks[0]!, partition(1, 5, 0, 1)));
    await b!.reply(tasks[1]!.commandId, ResultCode.RESULT_CODE_ACCEPTED); // and then nothing
    await sendResult(c!, tasks[2]!, ResultCode.RESULT_CODE_REFUSED, 'AGENT_ERR_BUSY');

    clock.advance(9_999);
    expect((await getQuantization(api, job.id)).state).toBe('calibrating');
    clock.advance(1);
    const failed = await finished(api, job.id);
    expect(failed).toMatchObject({
      state: 'failed', errorCode: 'HUB_ERR_QUANTIZATION_TOO_FEW_REPORTS', error: '1 valid calibration reports, 2 needed', devicesReported: 1,
    });
    expect(failed.artifact).toBeUndefined();
    expect(failed.finishedAt).toBe(new Date(clock.now()).toISOString());
    const states = new Map(failed.devices.map((d) => [d.deviceId, [d.state, d.reasonCode]]));
    expect(states.get(a!.deviceId)).toEqual(['reported', null]);
    expect(states.get(b!.deviceId)).toEqual(['cancelled', null]);
    expect(states.get(c!.deviceId)).toEqual(['refused', 'AGENT_ERR_BUSY']);
    // The silent device is told to stop; nothing stays owed.
    await waitFor(() => b!.commands.some((cmd) => cmd.cancel?.targetCommandId === tasks[1]!.commandId), 5000, 'cancel for b');
    for (const d of devices) expect(testHub.hub.commands.owedTo(d.deviceId)).toEqual([]);
  });

  it('builds at the deadline with the reports it has when they are at least minDevices', async () => {
    const { api, clock, model, devices, tasks, job } = await threeDevices({ minDevices: 1 });
    await sendReport(devices[0]!, reportOf(model, tasks[0]!, partition(2, 5, 0, 1)));
    await sendResult(devices[1]!, tasks[1]!, ResultCode.RESULT_CODE_FAILED, 'AGENT_ERR_NO_DATA');
    clock.advance(10_000);
    const done = await finished(api, job.id);
    expect(done).toMatchObject({ state: 'done', devicesAsked: 3, devicesReported: 1, exampleCount: 5 });
    expect(done.devices.map((d) => d.state).sort()).toEqual(['cancelled', 'failed', 'reported']);
  });

  it('ends as soon as every asked device answered, before the deadline', async () => {
    const { api, model, devices, tasks, job, clock } = await threeDevices({ minDevices: 2 });
    await sendReport(devices[0]!, reportOf(model, tasks[0]!, partition(3, 5, 0, 1)));
    await sendReport(devices[1]!, reportOf(model, tasks[1]!, partition(4, 5, 0, 1)));
    await devices[2]!.reply(tasks[2]!.commandId, ResultCode.RESULT_CODE_DONE); // done, but no report before it
    const done = await finished(api, job.id);
    expect(done).toMatchObject({ state: 'done', devicesReported: 2, exampleCount: 10 });
    expect(done.devices.find((d) => d.deviceId === devices[2]!.deviceId)).toMatchObject({ state: 'failed', reason: 'done without a calibration report' });
    expect(clock.now() < Date.parse(done.deadlineAt!)).toBe(true);
  });
});
