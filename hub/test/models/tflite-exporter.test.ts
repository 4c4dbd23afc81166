/**
 * The float .tflite of a version is derived once and kept by content address: later and concurrent requests reuse it
 * without encoding again, a failed encoding is not remembered, and the int8 file is only ever the quantization's.
 */
import { ProtoError, type FloatModel } from '@fedfleet/proto';
import { describe, expect, it } from 'vitest';
import { TFLITE_MEDIA_TYPE, TfliteExporter, tfliteFileName } from '../../src/models/tflite-export.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';

async function hubWithModel(): Promise<{ testHub: TestHub; version: Awaited<ReturnType<TestHub['hub']['models']['resolveVersion']>> }> {
  const testHub = await startTestHub({ listen: false });
  expect((await testHub.api('POST', '/v1/models', { name: 'mlp', architecture: 'mnist-2nn' })).status).toBe(201);
  return { testHub, version: testHub.hub.models.resolveVersion('mlp', 1) };
}

const tfliteRows = (testHub: TestHub) =>
  (testHub.hub.store.db.prepare('SELECT COUNT(*) AS n FROM artifacts WHERE media_type = ?').get(TFLITE_MEDIA_TYPE) as { n: number }).n;

describe('TfliteExporter', () => {
  it('encodes a version\'s float model once: the same artifact for later and concurrent requests, one blob', async () => {
    const { testHub, version } = await hubWithModel();
    const encoded: FloatModel[] = [];
    const exporter = new TfliteExporter({
      models: testHub.hub.models, blobs: testHub.hub.store.blobs, quantizations: () => undefined,
      encodeFloat: (model) => (encoded.push(model), Uint8Array.from([1, 2, 3, model.layers.length])),
    });
    const [a, b] = await Promise.all([exporter.export(version, 'mlp', 'fp32'), exporter.export(version, 'mlp', 'fp32')]);
    const c = await exporter.export(version, 'mlp', 'fp32');
    expect(encoded).toHaveLength(1);
    expect(encoded[0]!.layers.map((l) => l.kind)).toEqual(['dense', 'dense', 'dense']);
    expect(b).toEqual(a);
    expect(c).toEqual({ ...a, fileName: 'mlp-v1.tflite' });
    expect(tfliteRows(testHub)).toBe(1);
    expect(testHub.hub.store.blobs.info(a.sha256)?.mediaType).toBe(TFLITE_MEDIA_TYPE);
  });

  it('does not remember a failure, and names the layer the export cannot express', async () => {
    const { testHub, version } = await hubWithModel();
    let calls = 0;
    const exporter = new TfliteExporter({
      models: testHub.hub.models, blobs: testHub.hub.store.blobs, quantizations: () => undefined,
      encodeFloat: () => {
        calls++;
        if (calls === 1) throw new ProtoError('PROTO_ERR_UNSUPPORTED_LAYER', 'dense_1: activation "tanh" has no kernel here');
        return Uint8Array.from([9]);
      },
    });
    const refused = await exporter.export(version, 'mlp', 'fp32').catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'HUB_ERR_EXPORT_UNSUPPORTED', statusCode: 422, details: { protoCode: 'PROTO_ERR_UNSUPPORTED_LAYER' } });
    expect((refused as Error).message).toMatch(/^version 1 of mlp cannot be exported as \.tflite: .*dense_1: activation "tanh" has no kernel here$/);
    await expect(exporter.export(version, 'mlp', 'fp32')).resolves.toMatchObject({ sizeBytes: 1 });
    expect(calls).toBe(2);
  });

  it('serves int8 only from the latest completed quantization, and offers no fp16', async () => {
    const { testHub, version } = await hubWithModel();
    let latest: { artifact?: { sha256: string; sizeBytes: number } } | undefined;
    const exporter = new TfliteExporter({
      models: testHub.hub.models, blobs: testHub.hub.store.blobs, quantizations: () => ({ latestDone: () => latest }),
      encodeFloat: () => { throw new Error('not for int8'); },
    });
    await expect(exporter.export(version, 'mlp', 'int8')).rejects.toMatchObject({ code: 'HUB_ERR_NOT_QUANTIZED' });
    await expect(exporter.export(version, 'mlp', 'int8')).rejects.toThrow('run `fedfleet models quantize mlp --version 1 --calibrate fleet|dataset:<name>` first');
    latest = { artifact: { sha256: 'cd'.repeat(32), sizeBytes: 42 } };
    expect(await exporter.export(version, 'mlp', 'int8')).toEqual({ sha256: 'cd'.repeat(32), sizeBytes: 42, fileName: 'mlp-v1-int8.tflite' });
    await expect(exporter.export(version, 'mlp', 'fp16')).rejects.toMatchObject({ code: 'HUB_ERR_VALIDATION' });
  });

  it('names files after the model, with anything unsafe in a header or a path replaced', () => {
    expect(tfliteFileName('mnist-2nn', 3, 'fp32')).toBe('mnist-2nn-v3.tflite');
    expect(tfliteFileName('a"b/c\\d e', 12, 'int8')).toBe('a_b_c_d_e-v12-int8.tflite');
  });
});
