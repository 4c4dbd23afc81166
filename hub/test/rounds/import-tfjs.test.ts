/** `POST /v1/models/import`: a TensorFlow.js layers model saved by tfjs itself, and the imports it must refuse. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModelBlob } from '@fedfleet/proto';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/test-hub.js';
import { saveTfjsModel, tinyTfjsModel } from './round-helpers.js';

interface Created {
  model: { id: string; name: string; architecture: string; inputShape: number[]; numClasses: number; paramCount: number; latestVersion: number };
  version: { id: string; version: number; source: string; parentVersionId: string | null; format: string; sizeBytes: number };
}
interface ErrorBody { error: { code: string; message: string } }

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function importModel(testHub: TestHub, name: string, modelJson: Record<string, unknown>, weights: Uint8Array) {
  return testHub.api<Created & ErrorBody>('POST', '/v1/models/import', { name, modelJson, weightsBase64: Buffer.from(weights).toString('base64') });
}

async function artifactWeights(testHub: TestHub, modelId: string) {
  const response = await testHub.hub.inject({ method: 'GET', url: `/v1/models/${modelId}/versions/1/artifact`, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  expect(response.statusCode).toBe(200);
  return decodeModelBlob(new Uint8Array(response.rawPayload));
}

/** A two-layer MLP 6 → 5 → 2 with explicit layer names. */
function mlp(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ name: 'hidden', units: 5, inputShape: [6], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ name: 'out', units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
}

describe('import of TensorFlow.js layers models', () => {
  it('imports model.json + weights saved by tfjs: version 1, shapes, classes, exact weights, a loadable topology', async () => {
    const testHub = await startTestHub({ listen: false });
    const model = mlp();
    const expected = model.getWeights().map((w) => Array.from(w.dataSync()));
    const { modelJson, weights } = await saveTfjsModel(model);
    model.dispose();

    const response = await importModel(testHub, 'mlp', modelJson, weights);
    expect(response.status).toBe(201);
    expect(response.body.model).toMatchObject({ name: 'mlp', architecture: 'imported', inputShape: [6], numClasses: 2, paramCount: 6 * 5 + 5 + 5 * 2 + 2, latestVersion: 1 });
    expect(response.body.version).toMatchObject({ version: 1, source: 'import', parentVersionId: null, format: 'tfjs-layers' });

    const blob = await artifactWeights(testHub, response.body.model.id);
    expect(blob.weights.map((w) => [w.name, w.shape])).toEqual([['hidden/kernel', [6, 5]], ['hidden/bias', [5]], ['out/kernel', [5, 2]], ['out/bias', [2]]]);
    expect(blob.weights.map((w) => Array.from(w.data))).toEqual(expected);
    // What devices get back builds the same model (names included), so they can load the weights into it.
    const rebuilt = await tf.models.modelFromJSON(JSON.parse(blob.topologyJson));
    expect(rebuilt.weights.map((w) => w.originalName)).toEqual(blob.weights.map((w) => w.name));
    rebuilt.setWeights(blob.weights.map((w) => tf.tensor(w.data, w.shape)));
    const x = tf.ones([1, 6]);
    const original = mlp();
    original.setWeights(expected.map((data, i) => tf.tensor(data, blob.weights[i]!.shape)));
    expect(Array.from((rebuilt.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((original.predict(x) as tf.Tensor).dataSync()));
    tf.dispose([x, rebuilt, original] as unknown as tf.Tensor[]);
  });

  it('takes the weights in the model\'s order whatever order the manifest lists them in', async () => {
    const testHub = await startTestHub({ listen: false });
    const model = tinyTfjsModel();
    const { modelJson, weights } = await saveTfjsModel(model);
    const [kernelSpec, biasSpec] = (modelJson.weightsManifest as { weights: tf.io.WeightsManifestEntry[] }[])[0]!.weights;
    const kernelBytes = weights.subarray(0, 48);
    const biasBytes = weights.subarray(48);
    const reordered = { ...modelJson, weightsManifest: [{ paths: ['a.bin'], weights: [biasSpec, kernelSpec] }] };
    const response = await importModel(testHub, 'reordered', reordered, Buffer.concat([biasBytes, kernelBytes]));
    expect(response.status).toBe(201);
    const blob = await artifactWeights(testHub, response.body.model.id);
    expect(blob.weights.map((w) => w.shape)).toEqual([[4, 3], [3]]);
    expect(blob.weights.map((w) => Array.from(w.data))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    model.dispose();
  });

  it('refuses quantized and non-float32 weights, a byte count that does not match, garbage topologies, and taken names', async () => {
    const testHub = await startTestHub({ listen: false });
    const model = tinyTfjsModel();
    const { modelJson, weights } = await saveTfjsModel(model);
    model.dispose();
    const specs = (modelJson.weightsManifest as { weights: tf.io.WeightsManifestEntry[] }[])[0]!.weights;
    const withSpecs = (s: unknown[]) => ({ ...modelJson, weightsManifest: [{ paths: ['w.bin'], weights: s }] });

    const cases: [string, Record<string, unknown>, Uint8Array, RegExp][] = [
      ['quantized', withSpecs([{ ...specs[0], quantization: { dtype: 'uint8', scale: 0.01, min: -1 } }, specs[1]]), new Uint8Array(12 + 12), /quantized/],
      ['int32', withSpecs([specs[0], { ...specs[1], dtype: 'int32' }]), weights, /int32/],
      ['short', modelJson, weights.subarray(0, weights.byteLength - 4), /60 bytes, 56 were given/],
      ['long', modelJson, Buffer.concat([weights, new Uint8Array(4)]), /60 bytes, 64 were given/],
      ['no-topology', { weightsManifest: modelJson.weightsManifest }, weights, /no modelTopology/],
      ['string-topology', { ...modelJson, modelTopology: 'a model' }, weights, /no modelTopology/],
      ['garbage-topology', { ...modelJson, modelTopology: { class_name: 'NoSuchModel', config: { layers: 7 } } }, weights, /TensorFlow\.js cannot load it/],
      ['graph-model', { ...modelJson, format: 'graph-model' }, weights, /not a layers model/],
      ['shape-mismatch', withSpecs([{ ...specs[0], shape: [3, 4] }, specs[1]]), weights, /TensorFlow\.js cannot load it/],
      ['extra-weight', withSpecs([...specs, { name: 'stray/bias', shape: [1], dtype: 'float32' }]), Buffer.concat([weights, new Uint8Array(4)]), /TensorFlow\.js cannot load it/],
    ];
    for (const [name, json, bytes, message] of cases) {
      const response = await importModel(testHub, name, json, bytes);
      expect([name, response.status, response.body.error?.code]).toEqual([name, 400, 'HUB_ERR_MODEL_INVALID']);
      expect(response.body.error.message).toMatch(message);
    }
    expect((await testHub.api<unknown[]>('GET', '/v1/models')).body).toEqual([]);

    expect((await importModel(testHub, 'tiny', modelJson, weights)).status).toBe(201);
    const taken = await importModel(testHub, 'tiny', modelJson, weights);
    expect([taken.status, taken.body.error.code]).toEqual([409, 'HUB_ERR_MODEL_EXISTS']);
  });
});
