/**
 * Issue 10 item 1 against a real hub: `GET …/bundle` serves a version as a bundle whose manifest verifies with the key
 * devices get at enrollment, whose payload is the blob fetch/chunk serves, and whose minimum profile comes from the
 * MCU resource model (int8 .tflite) or the stated TensorFlow.js estimate; tflite needs a completed quantization;
 * `fedfleet models bundle` writes the same file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MCU_PROFILES, decodeBundleFile, decodeTfliteInt8, estimateArena, estimateFlash, mcuGraphOfInt8, mulberry32, parseLayerGraph,
  profileMeetsManifest, publicKeyId, verifyManifestSignature, verifyPayload, type BundleManifest,
} from '@fedfleet/proto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BUNDLE_MEDIA_TYPE } from '../../src/models/bundle-builder.js';
import { TFJS_BYTES_PER_PARAM } from '../../src/models/bundle-profile.js';
import type { QuantizationJson } from '../../src/quantize/schemas.js';
import { sha256Hex } from '../../src/store/blobs.js';
import { fetchArtifact, sendArtifactCommand } from '../helpers/chunked-fetch.js';
import { runCli } from '../helpers/cli.js';
import { uploadDataset } from '../helpers/datasets.js';
import { connectDevice, enrollDevice, waitFor } from '../helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/test-hub.js';
import { importTwoLayerModel } from '../quantize/quantize-helpers.js';

async function download(testHub: TestHub, url: string) {
  const response = await testHub.hub.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  return { status: response.statusCode, headers: response.headers, bytes: response.rawPayload, json: () => response.json() as { error: { code: string; message: string } } };
}

/** The file's manifest verified with `publicKeyPem` and its payload checked against it. */
function verifiedBundle(bytes: Uint8Array, publicKeyPem: string): { manifest: BundleManifest; payload: Uint8Array } {
  const parts = decodeBundleFile(bytes);
  const manifest = verifyManifestSignature(parts.manifest, parts.signature, publicKeyPem);
  verifyPayload(manifest, parts.payload);
  return { manifest, payload: parts.payload };
}

async function quantizeOnDataset(testHub: TestHub, model: string): Promise<QuantizationJson> {
  const random = mulberry32(3);
  await uploadDataset(testHub.api, { name: 'calib', inputShape: [4], numClasses: 3, x: Float32Array.from({ length: 64 * 4 }, () => random()), y: Array.from({ length: 64 }, (_, i) => i % 3) });
  const started = await testHub.api<QuantizationJson>('POST', `/v1/models/${model}/versions/1/quantizations`, { calibrate: 'dataset:calib' });
  expect(started.status).toBe(202);
  return waitFor(async () => {
    const job = (await testHub.api<QuantizationJson>('GET', `/v1/quantizations/${started.body.id}`)).body;
    if (job.state === 'failed') throw new Error(JSON.stringify(job));
    return job.state === 'done' ? job : undefined;
  }, 10_000, 'quantization done');
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fedfleet-bundle-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const fedfleet = (testHub: TestHub, args: string[], cwd?: string) =>
  runCli(args, { cwd, env: { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });

describe('signed model bundles', () => {
  it('a float version: verifies with the enrollment key, payload = the blob fetch/chunk serves, tfjs profile, same bytes again', async () => {
    const testHub = await startTestHub();
    const { modelId, versionId } = await importTwoLayerModel(testHub.api, 'tiny');
    const device = await enrollDevice(testHub);
    expect(device.hubPublicKey).toBe(testHub.hub.identity.publicKeyPem);

    const file = await download(testHub, '/v1/models/tiny/versions/1/bundle');
    expect(file.status).toBe(200);
    expect(file.headers).toMatchObject({
      'content-type': BUNDLE_MEDIA_TYPE, 'content-disposition': 'attachment; filename="tiny-v1-tfjs-layers-fp32.bundle"', 'x-sha256': sha256Hex(file.bytes),
    });
    const { manifest, payload } = verifiedBundle(file.bytes, device.hubPublicKey);
    const version = testHub.hub.models.getVersion(versionId);
    const { topologyJson } = await testHub.hub.models.loadContent(versionId);
    expect(manifest).toEqual({
      bundleVersion: 1, modelId, modelName: 'tiny', versionId, version: 1, format: 'tfjs-layers', encoding: 'fp32',
      payload: { sha256: version.sha256, sizeBytes: version.sizeBytes },
      minProfile: {
        ramBytes: version.paramCount * TFJS_BYTES_PER_PARAM + estimateArena(parseLayerGraph(topologyJson), 'fp32').plannedBytes,
        flashBytes: version.sizeBytes, int8Only: false, runtime: 'tfjs',
      },
      input: { shape: [4] }, numClasses: 3, createdAtMs: expect.any(Number), keyId: publicKeyId(device.hubPublicKey),
    });
    expect(profileMeetsManifest({ ...MCU_PROFILES['mcu-m4'], int8Only: true }, manifest)).toMatch(/^float model on an int8-only device/);

    // The payload a device fetches in chunks is the one the manifest names.
    const client = await connectDevice(testHub, device);
    await sendArtifactCommand(testHub.hub, device.deviceId, manifest.payload.sha256);
    expect(await fetchArtifact(client, device.deviceId, manifest.payload.sha256)).toEqual(Buffer.from(payload));

    // fp16: another payload (the fp16 ModelBlob), same rules; builds are memoized, so the bytes repeat.
    const fp16 = await testHub.hub.bundles.build(versionId, { format: 'tfjs-layers', encoding: 'fp16' });
    expect(fp16.manifest.payload.sizeBytes).toBeLessThan(version.sizeBytes);
    expect(fp16.payload).toMatchObject({ sha256: fp16.manifest.payload.sha256, format: 'tfjs-layers', modelId, versionId });
    expect(await testHub.hub.bundles.build(versionId, { format: 'tfjs-layers', encoding: 'fp16' })).toBe(fp16);
    expect((await download(testHub, '/v1/models/tiny/versions/latest/bundle?format=tfjs-layers&encoding=fp32')).bytes).toEqual(file.bytes);
  });

  it('tflite: 409 HUB_ERR_NOT_QUANTIZED first, then the int8 model with the MCU resource model profile; 400 for a float tflite', async () => {
    const testHub = await startTestHub();
    await importTwoLayerModel(testHub.api, 'tiny');
    const before = await download(testHub, '/v1/models/tiny/versions/1/bundle?format=tflite');
    expect([before.status, before.json().error.code]).toEqual([409, 'HUB_ERR_NOT_QUANTIZED']);
    const float = await download(testHub, '/v1/models/tiny/versions/1/bundle?format=tflite&encoding=fp32');
    expect([float.status, float.json().error.code]).toEqual([400, 'HUB_ERR_VALIDATION']);
    const bad = await download(testHub, '/v1/models/tiny/versions/1/bundle?format=onnx');
    expect([bad.status, bad.json().error.code]).toEqual([400, 'HUB_ERR_VALIDATION']);

    const job = await quantizeOnDataset(testHub, 'tiny');
    const file = await download(testHub, '/v1/models/tiny/versions/1/bundle?format=tflite');
    expect([file.status, file.headers['content-disposition']]).toEqual([200, 'attachment; filename="tiny-v1-tflite-int8.bundle"']);
    const { manifest, payload } = verifiedBundle(file.bytes, testHub.hub.identity.publicKeyPem);
    expect(manifest.payload).toEqual({ sha256: job.artifact!.sha256, sizeBytes: job.artifact!.sizeBytes });
    const graph = mcuGraphOfInt8(decodeTfliteInt8(payload));
    expect(manifest).toMatchObject({
      format: 'tflite', encoding: 'int8', input: { shape: [4] }, numClasses: 3,
      minProfile: { ramBytes: estimateArena(graph, 'int8').totalBytes, flashBytes: estimateFlash(graph, 'int8').totalBytes, int8Only: true, runtime: 'int8-kernels' },
    });
    expect(profileMeetsManifest({ ...MCU_PROFILES['mcu-m4'], int8Only: true }, manifest)).toBeUndefined();
    const build = await testHub.hub.bundles.build(manifest.versionId, { format: 'tflite', encoding: 'int8' });
    expect(build.payload).toMatchObject({ sha256: job.artifact!.sha256, format: 'tflite' });
  });

  it('`fedfleet models bundle` writes a file that verifies; usage errors name the flag; an unquantized tflite is refused with its code', async () => {
    const testHub = await startTestHub();
    await importTwoLayerModel(testHub.api, 'tiny');
    const cwd = tempDir();
    const refused = await fedfleet(testHub, ['models', 'bundle', 'tiny', '--format', 'tflite'], cwd);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/^error HUB_ERR_NOT_QUANTIZED: version 1 of tiny has no completed/)]);
    const both = await fedfleet(testHub, ['models', 'bundle', 'tiny', '--int8', '--encoding', 'fp16'], cwd);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('--int8 is --encoding int8')]);
    const format = await fedfleet(testHub, ['models', 'bundle', 'tiny', '--format', 'onnx'], cwd);
    expect([format.code, format.stderr]).toEqual([2, expect.stringContaining('--format "onnx": use tfjs-layers | tflite')]);

    const run = await fedfleet(testHub, ['models', 'bundle', 'tiny', '--version', '1', '--encoding', 'fp16'], cwd);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const path = join(cwd, 'tiny-v1-tfjs-layers-fp16.bundle');
    expect(run.stdout).toMatch(new RegExp(`^wrote ${path}: \\d+ bytes, sha256 [0-9a-f]{64}\\n  tiny v1 \\(\\S+\\), tfjs-layers fp16, payload .+\\n  needs .+ RAM, .+ flash, runtime tfjs; signed by hub key ${publicKeyId(testHub.hub.identity.publicKeyPem)}\\n$`));
    const { manifest } = verifiedBundle(readFileSync(path), testHub.hub.identity.publicKeyPem);
    expect(manifest).toMatchObject({ modelName: 'tiny', format: 'tfjs-layers', encoding: 'fp16' });

    const json = await fedfleet(testHub, ['models', 'bundle', 'tiny', '--int8', '-o', 'int8.bundle', '--json'], cwd);
    expect(JSON.parse(json.stdout)).toMatchObject({ path: join(cwd, 'int8.bundle'), manifest: { encoding: 'int8', format: 'tfjs-layers' } });
    verifiedBundle(readFileSync(join(cwd, 'int8.bundle')), testHub.hub.identity.publicKeyPem);
  });
});
