/**
 * A hub that stops while a quantization job calibrates: the statistics it had were in memory, so the restarted hub
 * fails the job cleanly at start — a stable code, its devices cancelled — and a report that arrives afterwards is
 * not merged into anything.
 */
import { describe, expect, it } from 'vitest';
import { startTestHub, tempDataDir } from '../helpers/test-hub.js';
import { startRoundHub, type Api } from '../rounds/round-helpers.js';
import {
  calibrateTask, floatModelOf, getQuantization, importTwoLayerModel, partition, reportOf, sendReport, startQuantization,
} from './quantize-helpers.js';

describe('a hub restarted during a quantization job', () => {
  it('fails the job at start with HUB_ERR_QUANTIZATION_INTERRUPTED and ignores reports that arrive later', async () => {
    const dataDir = tempDataDir();
    const first = await startRoundHub({ dataDir });
    const { versionId } = await importTwoLayerModel(first.api);
    const model = await floatModelOf(first.testHub.hub, versionId);
    const [a, b] = [await first.enroll('a'), await first.enroll('b')];
    await first.online([a.deviceId, b.deviceId]);
    const job = await startQuantization(first.api, 'two-layer', 1, { calibrate: 'fleet', minDevices: 1, deadlineSec: 600 });
    const [ta, tb] = await Promise.all([calibrateTask(a, job.id), calibrateTask(b, job.id)]);
    await sendReport(b, reportOf(model, tb!, partition(1, 5, 0, 1)));
    expect((await getQuantization(first.api, job.id)).devicesReported).toBe(1);
    await first.testHub.hub.close();

    const second = await startTestHub({ dataDir });
    const api: Api = (method, url, body) => second.api(method, url, body);
    const failed = await getQuantization(api, job.id);
    expect(failed).toMatchObject({ state: 'failed', errorCode: 'HUB_ERR_QUANTIZATION_INTERRUPTED', devicesReported: 1 });
    expect(failed.error).toMatch(/calibrating/);
    expect(failed.finishedAt).toBeDefined();
    expect(failed.devices.find((d) => d.deviceId === a.deviceId)).toMatchObject({ state: 'cancelled' });
    expect(second.hub.quantizations.latestDone(versionId)).toBeUndefined();

    // a comes back to the new hub and reports: nobody is owed that command any more.
    await a.connect(second.mqttUrl);
    await sendReport(a, reportOf(model, ta!, partition(2, 5, 0, 1)));
    expect(await getQuantization(api, job.id)).toEqual(failed);
  });
});
