/**
 * Quantization requests the hub refuses at once, storing nothing and asking no device (DESIGN §9), and the data set
 * calibration path: the hub's own statistics over an uploaded data set (or its first N examples) give the ranges
 * central calibration gives on the same examples.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { calibrateRanges, decodeTfliteInt8 } from '@fedfleet/proto';
import { uploadDataset } from '../helpers/datasets.js';
import { BOARD, saveTfjsModel, startRoundHub, type Api } from '../rounds/round-helpers.js';
import { finished, floatModelOf, importTwoLayerModel, partition, startQuantization } from './quantize-helpers.js';

function uploadExamples(api: Api, name: string, examples: Float32Array[], inputShape = [4]): Promise<void> {
  const x = new Float32Array(examples.length * examples[0]!.length);
  examples.forEach((e, i) => x.set(e, i * e.length));
  return uploadDataset(api, { name, inputShape, numClasses: 3, x, y: new Uint8Array(examples.length) });
}

async function importTanhModel(api: Api): Promise<void> {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'tanh' })] });
  const { modelJson, weights } = await saveTfjsModel(model);
  model.dispose();
  const response = await api('POST', '/v1/models/import', { name: 'tanh', modelJson, weightsBase64: Buffer.from(weights).toString('base64') });
  if (response.status !== 201) throw new Error(`import: ${response.status}`);
}

describe('quantization requests', () => {
  it('refuses impossible requests at once with a code, storing nothing and asking no device', async () => {
    const { testHub, api, enroll, online } = await startRoundHub();
    const { versionId } = await importTwoLayerModel(api);
    await importTanhModel(api);
    await uploadExamples(api, 'five-wide', partition(1, 3, 0, 1).map((e) => Float32Array.of(...e, 0)), [5]);
    const int8Only = await enroll('mcu', { profile: { ...BOARD, int8Only: true } });
    await enroll('asleep', { connect: false });
    await online([int8Only.deviceId]);
    const post = (body: Record<string, unknown>, model = 'two-layer', version = '1') =>
      api<{ error: { code: string; message: string; details?: unknown } }>('POST', `/v1/models/${model}/versions/${version}/quantizations`, body);

    // No device can calibrate now: the int8-only one cannot run the float model, the other is offline.
    const none = await post({ calibrate: 'fleet' });
    expect([none.status, none.body.error.code]).toEqual([409, 'HUB_ERR_QUANTIZATION_NO_DEVICES']);
    expect(none.body.error.details).toEqual({ matching: 2, eligible: 0, needed: 1 });
    expect((await post({ calibrate: 'fleet', selector: 'site=nowhere' })).body.error.code).toBe('HUB_ERR_QUANTIZATION_NO_DEVICES');
    expect((await post({ calibrate: 'fleet', selector: '=x' })).body.error.code).toBe('HUB_ERR_BAD_SELECTOR');
    expect((await post({ calibrate: 'dataset:missing' })).body.error.code).toBe('HUB_ERR_DATASET_NOT_FOUND');
    const misfit = await post({ calibrate: 'dataset:five-wide' });
    expect([misfit.status, misfit.body.error.code]).toEqual([400, 'HUB_ERR_QUANTIZATION_BAD_REQUEST']);
    expect((await post({ calibrate: 'fleet' }, 'two-layer', '9')).body.error.code).toBe('HUB_ERR_VERSION_NOT_FOUND');
    expect((await post({ calibrate: 'fleet' }, 'nope')).body.error.code).toBe('HUB_ERR_MODEL_NOT_FOUND');
    expect((await post({ calibrate: 'fleet', minDevices: 3, maxDevices: 2 })).body.error.code).toBe('HUB_ERR_QUANTIZATION_BAD_REQUEST');
    const tanh = await post({ calibrate: 'fleet' }, 'tanh');
    expect([tanh.status, tanh.body.error.code]).toEqual([422, 'HUB_ERR_EXPORT_UNSUPPORTED']);
    expect(tanh.body.error.message).toMatch(/tanh/);
    for (const body of [
      { calibrate: 'cloud' }, { calibrate: 'fleet', percentile: 10 }, { calibrate: 'fleet', percentile: 100.5 },
      { calibrate: 'fleet', histogramBins: 1 }, { calibrate: 'fleet', deadlineSec: 0 }, { calibrate: 'fleet', extra: 1 },
    ]) {
      expect((await post(body)).body.error.code, JSON.stringify(body)).toBe('HUB_ERR_VALIDATION');
    }

    expect((await api('GET', '/v1/models/two-layer/versions/1/quantizations')).body).toEqual([]);
    expect(testHub.hub.quantizations.listForVersion(versionId)).toEqual([]);
    expect((await api<unknown[]>('GET', '/v1/audit?action=quantization.started')).body).toEqual([]);
    expect(int8Only.commands).toEqual([]);
    expect((await api<{ error: { code: string } }>('GET', '/v1/quantizations/nope')).body.error.code).toBe('HUB_ERR_QUANTIZATION_NOT_FOUND');
  });

  it('calibrates on an uploaded data set at the hub: the ranges of its examples, or of its first N', async () => {
    const { testHub, api } = await startRoundHub();
    const { versionId } = await importTwoLayerModel(api);
    const model = await floatModelOf(testHub.hub, versionId);
    // More examples than one slice, the widest ones last: every slice must count.
    const examples = [...partition(5, 40, -1, 1), ...partition(6, 30, 1, 4)];
    await uploadExamples(api, 'calib', examples);

    const all = await finished(api, (await startQuantization(api, 'two-layer', 'latest', { calibrate: 'dataset:calib' })).id);
    const central = calibrateRanges(model, examples);
    expect(all).toMatchObject({ state: 'done', calibration: 'dataset', datasetName: 'calib', devicesAsked: 0, exampleCount: 70 });
    expect(all.ranges!.map((r) => [r.min, r.max])).toEqual([central.input, ...central.layers]);
    expect(decodeTfliteInt8(new Uint8Array((await testHub.hub.store.blobs.get(all.artifact!.sha256))!)).ops).toHaveLength(2);

    const firstTen = await finished(api, (await startQuantization(api, 'two-layer', 1, { calibrate: 'dataset:calib', maxExamplesPerDevice: 10 })).id);
    const centralTen = calibrateRanges(model, examples.slice(0, 10));
    expect(firstTen.exampleCount).toBe(10);
    expect(firstTen.ranges!.map((r) => [r.min, r.max])).toEqual([centralTen.input, ...centralTen.layers]);
    expect(testHub.hub.quantizations.latestDone(versionId)?.id).toBe(firstTen.id);
    expect(testHub.hub.quantizations.listForVersion(versionId).map((j) => j.id)).toEqual([firstTen.id, all.id]);
  });
});
