/**
 * Federated calibration end to end, with raw MQTT clients as devices: the hub asks the online devices, merges the
 * statistics they report into exactly the ranges central calibration gives on the union of their data, builds the
 * int8 .tflite, and never merges a report that is malformed, sent in another device's name, or repeated.
 */
import { describe, expect, it } from 'vitest';
import { buildInt8Graph, calibrateRanges, decodeTfliteInt8, describeTflite, type FloatModel } from '@fedfleet/proto';
import { sha256Hex } from '../../src/store/blobs.js';
import { startRoundHub } from '../rounds/round-helpers.js';
import {
  calibrateTask, finished, floatModelOf, importTwoLayerModel, partition, reportOf, sendReport, startQuantization,
} from './quantize-helpers.js';

/** The ranges a job reports, as central calibration on `examples` gives them (min/max exactly). */
function centralRanges(model: FloatModel, examples: Float32Array[]) {
  const central = calibrateRanges(model, examples);
  const names = ['input', ...model.layers.map((l) => l.name)];
  return [central.input, ...central.layers].map(([min, max], i) => ({ name: names[i], min, max }));
}

/** Examples far outside every partition: merged, they would move every range. */
const OUTLIERS = [Float32Array.of(1000, -1000, 1000, -1000)];

describe('federated calibration', () => {
  it('merges three devices\' statistics into the ranges central calibration gives on the union, and stores an int8 .tflite', async () => {
    const { testHub, api, enroll, online } = await startRoundHub();
    const { hub } = testHub;
    const { versionId } = await importTwoLayerModel(api);
    const model = await floatModelOf(hub, versionId);
    const devices = [await enroll('a', { labels: { site: 'x' } }), await enroll('b', { labels: { site: 'x' } }), await enroll('c', { labels: { site: 'x' } })];
    await enroll('elsewhere', { labels: { site: 'y' } });
    await online(devices.map((d) => d.deviceId));
    const events: string[] = [];
    hub.events.onAny((name) => void (name.startsWith('quantization.') && events.push(name)));
    // Each device's data covers another part of the input space: the union's ranges come from all three.
    const parts = [partition(1, 30, -1, 1), partition(2, 20, 0, 3), partition(3, 25, -2, 0.5)];

    const started = await startQuantization(api, 'two-layer', 1, { calibrate: 'fleet', selector: 'site=x', minDevices: 3, histogramBins: 512 });
    expect(started).toMatchObject({ state: 'calibrating', calibration: 'fleet', versionId, version: 1, devicesAsked: 3, percentile: 100 });
    for (const [i, device] of devices.entries()) {
      const task = await calibrateTask(device, started.id);
      // The float version as rounds send it, and the job's histogram budget.
      expect(task).toMatchObject({ histogramBins: 512, model: { versionId, format: 'tfjs-layers', encoding: 1 } });
      await sendReport(device, reportOf(model, task, parts[i]!));
    }

    const done = await finished(api, started.id);
    expect(done).toMatchObject({ state: 'done', devicesAsked: 3, devicesReported: 3, devicesRejected: 0, exampleCount: 75 });
    expect(done.ranges).toEqual(centralRanges(model, parts.flat()));
    expect(done.devices.map((d) => [d.state, d.exampleCount])).toEqual(expect.arrayContaining([['reported', 30], ['reported', 20], ['reported', 25]]));

    const bytes = new Uint8Array((await hub.store.blobs.get(done.artifact!.sha256))!);
    expect(done.artifact).toMatchObject({ sizeBytes: bytes.byteLength, format: 'tflite', encoding: 'int8' });
    expect(sha256Hex(bytes)).toBe(done.artifact!.sha256);
    expect(describeTflite(bytes)).toMatchObject({ operators: ['FULLY_CONNECTED', 'FULLY_CONNECTED'], description: 'fedfleet two-layer v1 int8' });
    // Its activation parameters are those of the int8 graph central calibration builds.
    const decoded = decodeTfliteInt8(bytes);
    const central = buildInt8Graph(model, calibrateRanges(model, parts.flat()));
    expect(decoded.tensors.map((t) => [t.quant.zeroPoint, Math.fround(t.quant.scale)]))
      .toEqual(central.tensors.map((t) => [t.quant.zeroPoint, Math.fround(t.quant.scale)]));

    expect(hub.quantizations.latestDone(versionId)?.id).toBe(started.id);
    expect((await api<{ id: string }[]>('GET', '/v1/models/two-layer/versions/1/quantizations')).body.map((j) => j.id)).toEqual([started.id]);
    for (const device of devices) expect(hub.commands.owedTo(device.deviceId)).toEqual([]);
    expect(events).toEqual(['quantization.started', ...devices.map(() => 'quantization.device-reported'), 'quantization.completed']);
    const audit = (await api<{ action: string; target: string }[]>('GET', '/v1/audit?action=quantization.started')).body;
    expect(audit.map((e) => e.target)).toEqual([started.id]);
  });

  it('rejects a report with NaN, one with the wrong tensor count, one in another device\'s name and a repeat: none changes the result', async () => {
    const { testHub, api, enroll, online } = await startRoundHub();
    const { versionId } = await importTwoLayerModel(api);
    const model = await floatModelOf(testHub.hub, versionId);
    const [a, b, c, d] = [await enroll('a'), await enroll('b'), await enroll('c'), await enroll('d')];
    await online([a, b, c, d].map((x) => x.deviceId));
    const parts = [partition(11, 15, -1, 2), partition(12, 15, 0.5, 1)];
    const rejected: { deviceId: string; accepted: boolean; code: string | null }[] = [];
    testHub.hub.events.on('quantization.device-reported', (e) => void rejected.push({ deviceId: e.deviceId, accepted: e.accepted, code: e.code }));

    const started = await startQuantization(api, 'two-layer', versionId, { calibrate: 'fleet', minDevices: 2 });
    const [ta, tb, tc, td] = await Promise.all([a, b, c, d].map((x) => calibrateTask(x, started.id)));
    // d answers a's command with outliers: a reply from another device than the command's is never routed.
    await sendReport(d, reportOf(model, ta!, OUTLIERS));
    // b reports, then again with outliers: one answer per device.
    await sendReport(b, reportOf(model, tb!, parts[1]!));
    await sendReport(b, reportOf(model, tb!, OUTLIERS));
    // c's statistics hold NaN.
    const nan = reportOf(model, tc!, OUTLIERS);
    nan.tensors![1]!.max = Number.NaN;
    await sendReport(c, nan);
    // d's own report misses the last layer.
    const short = reportOf(model, td!, OUTLIERS);
    short.tensors = short.tensors!.slice(0, 2);
    await sendReport(d, short);
    await sendReport(a, reportOf(model, ta!, parts[0]!));

    const done = await finished(api, started.id);
    expect(done).toMatchObject({ state: 'done', devicesAsked: 4, devicesReported: 2, devicesRejected: 2, exampleCount: 30 });
    expect(done.ranges).toEqual(centralRanges(model, parts.flat()));
    const byDevice = new Map(done.devices.map((x) => [x.deviceId, x]));
    expect(byDevice.get(c.deviceId)).toMatchObject({ state: 'rejected', reasonCode: 'HUB_ERR_CALIBRATION_REPORT_INVALID' });
    expect(byDevice.get(c.deviceId)!.reason).toMatch(/PROTO_ERR_BAD_CALIBRATION/);
    expect(byDevice.get(d.deviceId)).toMatchObject({ state: 'rejected', reasonCode: 'HUB_ERR_CALIBRATION_REPORT_INVALID', exampleCount: null });
    expect(byDevice.get(d.deviceId)!.reason).toMatch(/2 tensors, the model has 3/);
    expect(rejected).toEqual([
      { deviceId: b.deviceId, accepted: true, code: null },
      { deviceId: c.deviceId, accepted: false, code: 'HUB_ERR_CALIBRATION_REPORT_INVALID' },
      { deviceId: d.deviceId, accepted: false, code: 'HUB_ERR_CALIBRATION_REPORT_INVALID' },
      { deviceId: a.deviceId, accepted: true, code: null },
    ]);
  });

  it('rejects a report that answers another job or version, or covers more examples than asked', async () => {
    const { testHub, api, enroll, online } = await startRoundHub();
    const { versionId } = await importTwoLayerModel(api);
    const model = await floatModelOf(testHub.hub, versionId);
    const devices = [await enroll('a'), await enroll('b'), await enroll('c'), await enroll('d')];
    await online(devices.map((x) => x.deviceId));
    const started = await startQuantization(api, 'two-layer', 1, { calibrate: 'fleet', minDevices: 1, maxExamplesPerDevice: 10 });
    const tasks = await Promise.all(devices.map((x) => calibrateTask(x, started.id)));
    expect(tasks.map((t) => t.maxExamples)).toEqual([10, 10, 10, 10]);
    const good = partition(21, 10, 0, 1);
    await sendReport(devices[0]!, reportOf(model, tasks[0]!, OUTLIERS, { jobId: 'another-job' }));
    await sendReport(devices[1]!, reportOf(model, tasks[1]!, OUTLIERS, { versionId: 'another-version' }));
    await sendReport(devices[2]!, reportOf(model, tasks[2]!, [...good, ...OUTLIERS]));
    await sendReport(devices[3]!, reportOf(model, tasks[3]!, good));

    const done = await finished(api, started.id);
    expect(done).toMatchObject({ state: 'done', devicesReported: 1, devicesRejected: 3, exampleCount: 10 });
    expect(done.ranges).toEqual(centralRanges(model, good));
    const reasons = done.devices.filter((x) => x.state === 'rejected').map((x) => x.reason);
    expect(reasons).toHaveLength(3);
    expect(reasons).toEqual(expect.arrayContaining([
      expect.stringMatching(/^11 examples, at most 10/), expect.stringMatching(/^answers job "another-job"/),
      expect.stringMatching(/^calibrated version "another-version"/),
    ]));
  });
});
