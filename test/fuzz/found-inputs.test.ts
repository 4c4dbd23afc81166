/**
 * Inputs the property tests found, kept as plain examples so they are checked on every run whatever the seed.
 */
import { describe, expect, it } from 'vitest';
import { TensorEncoding, decodeTensor, decodeWeights, encodeTensor, shapeSize } from '@fedfleet/proto';
import { tf } from '../../hub/src/models/tfjs.js';
import { saveTfjsModel, tinyTfjsModel } from '../../hub/test/rounds/round-helpers.js';
import { startTestHub, TEST_ADMIN_TOKEN } from '../../hub/test/helpers/test-hub.js';

const FP32 = TensorEncoding.TENSOR_ENCODING_FP32;

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('tensor decoding', () => {
  it('counts a scalar (shape []) against maxElements', () => {
    const scalar = { shape: [], encoding: FP32, data: new Uint8Array(4) };
    expect(errorCode(() => decodeTensor(scalar, { maxElements: 0 }))).toBe('PROTO_ERR_BAD_TENSOR');
    // Each scalar used to pass with the budget already spent: any number of them got through.
    expect(errorCode(() => decodeWeights([scalar, scalar, scalar], { maxElements: 2 }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(decodeWeights([scalar, scalar], { maxElements: 2 })).toHaveLength(2);
  });

  it('refuses an empty tensor whose other dimensions multiply past 2^53 (its shapeSize would be NaN)', () => {
    const shape = [...Array<number>(40).fill(0xffffffff), 0];
    expect(shapeSize(shape)).toBeNaN();
    expect(errorCode(() => decodeTensor({ shape, encoding: FP32, data: new Uint8Array(0) }))).toBe('PROTO_ERR_BAD_TENSOR');
    // Ordinary empty tensors still decode.
    expect(decodeTensor(encodeTensor({ name: 'e', shape: [0, 5], data: new Float32Array(0) }, FP32)).shape).toEqual([0, 5]);
  });
});

describe('POST /v1/models/import with a malformed model.json', () => {
  it('answers 400 HUB_ERR_MODEL_INVALID and stores nothing, whatever the manifest holds', async () => {
    await tf.setBackend('cpu');
    const testHub = await startTestHub({ listen: false });
    const tiny = tinyTfjsModel();
    const { modelJson, weights } = await saveTfjsModel(tiny);
    tiny.dispose();
    const weightsBase64 = Buffer.from(weights).toString('base64');
    const manifest = (modelJson.weightsManifest as { paths: string[]; weights: Record<string, unknown>[] }[])[0]!;
    const nanWeights = new Float32Array(weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength));
    nanWeights[1] = Number.NaN;
    const patches: Record<string, unknown>[] = [
      { weightsManifest: 'not a list' },
      { weightsManifest: [null] },
      { weightsManifest: [{ paths: [], weights: 7 }] },
      { weightsManifest: [{ ...manifest, weights: [null, ...manifest.weights] }] },
      { weightsManifest: [{ ...manifest, weights: [{ ...manifest.weights[0], shape: 'x' }, manifest.weights[1]] }] },
      { weightsManifest: [{ ...manifest, weights: [manifest.weights[0], { ...manifest.weights[1], dtype: { toString: 'float32' } }] }] },
      { format: { toString: 1 } },
    ];
    const bodies = patches.map((patch) => ({ name: 'broken', modelJson: { ...modelJson, ...patch }, weightsBase64 }));
    bodies.push({ name: 'broken', modelJson, weightsBase64: Buffer.from(nanWeights.buffer).toString('base64') });
    for (const body of bodies) {
      const response = await testHub.api<{ error: { code: string } }>('POST', '/v1/models/import', body);
      expect({ status: response.status, code: response.body.error?.code }, JSON.stringify(body.modelJson).slice(0, 200))
        .toEqual({ status: 400, code: 'HUB_ERR_MODEL_INVALID' });
    }
    // A dtype nested 20,000 deep: the error message must not walk into it (JSON.stringify overflows the stack).
    const deep = `${'{"a":'.repeat(20_000)}null${'}'.repeat(20_000)}`;
    const deepManifest = [{ ...manifest, weights: [manifest.weights[0], { ...manifest.weights[1], dtype: 'DEEP' }] }];
    const deepJson = JSON.stringify({ name: 'broken', modelJson: { ...modelJson, weightsManifest: deepManifest }, weightsBase64 })
      .replace('"DEEP"', deep);
    const deepResponse = await testHub.hub.inject({
      method: 'POST', url: '/v1/models/import', payload: deepJson,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect({ status: deepResponse.statusCode, code: deepResponse.json().error?.code }).toEqual({ status: 400, code: 'HUB_ERR_MODEL_INVALID' });
    expect((await testHub.api<unknown[]>('GET', '/v1/models')).body).toEqual([]);
  });
});

describe('URLs the router refuses before any route runs', () => {
  it('answer with the hub error body and a HUB_ERR_* code', async () => {
    const testHub = await startTestHub({ listen: false });
    for (const url of ['/v1/devices/%zz', '/v1/models/x/versions/JZkYvU%', `/v1/devices/${'d'.repeat(300)}`]) {
      const reply = await testHub.api<{ error?: { code?: string } }>('GET', url);
      expect(reply.status, url).toBeGreaterThanOrEqual(400);
      expect(reply.status, url).toBeLessThan(500);
      expect(reply.body.error?.code, url).toMatch(/^HUB_ERR_/);
    }
  });
});
