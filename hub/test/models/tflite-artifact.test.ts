/**
 * Issue 9 item 5 against a real hub: `GET …/artifact?format=tflite` serves the float model as a TensorFlow Lite
 * flatbuffer that parses back (float32 in and out, the right operators), derived once; the int8 one only after a
 * completed quantization (409 with the command to run before), int8 in and out; `fedfleet models quantize` runs a
 * data set calibration to its end, `models export` writes the endpoint's bytes, `models show` lists the jobs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTflite, mulberry32 } from '@fedfleet/proto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TFLITE_MEDIA_TYPE } from '../../src/models/tflite-export.js';
import type { QuantizationJson } from '../../src/quantize/schemas.js';
import { sha256Hex } from '../../src/store/blobs.js';
import { runCli } from '../helpers/cli.js';
import { uploadDataset } from '../helpers/datasets.js';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/test-hub.js';

const DIGITS = 24;

/** `GET` as bytes with the headers (testHub.api parses JSON). */
async function download(testHub: TestHub, url: string) {
  const response = await testHub.hub.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  return { status: response.statusCode, headers: response.headers, bytes: response.rawPayload, json: () => response.json() as { error: { code: string; message: string } } };
}

async function hubWithModels(): Promise<TestHub> {
  const testHub = await startTestHub();
  for (const [name, architecture] of [['mlp', 'mnist-2nn'], ['cnn', 'tiny-cnn']]) {
    expect((await testHub.api('POST', '/v1/models', { name, architecture })).status).toBe(201);
  }
  return testHub;
}

/** `DIGITS` seeded examples in [0, 1) of 784 values: enough to calibrate on, not MNIST. */
async function uploadDigits(testHub: TestHub): Promise<void> {
  const random = mulberry32(9);
  const x = Float32Array.from({ length: DIGITS * 784 }, () => random());
  await uploadDataset(testHub.api, { name: 'digits', inputShape: [784], numClasses: 10, x, y: Array.from({ length: DIGITS }, (_, i) => i % 10) });
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fedfleet-export-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const fedfleet = (testHub: TestHub, args: string[], cwd?: string) =>
  runCli(args, { cwd, env: { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });

const ioTypes = (summary: ReturnType<typeof describeTflite>) =>
  [...summary.inputs, ...summary.outputs].map((i) => summary.tensors[i]!.type);

describe('models as .tflite files', () => {
  it('serves the float model as a .tflite that parses back with float32 in and out and the right operators, encoded once', async () => {
    const testHub = await hubWithModels();
    const mlp = await download(testHub, '/v1/models/mlp/versions/1/artifact?format=tflite');
    expect(mlp.status).toBe(200);
    expect(mlp.headers).toMatchObject({
      'content-type': 'application/octet-stream', 'x-sha256': sha256Hex(mlp.bytes), 'content-disposition': 'attachment; filename="mlp-v1.tflite"',
    });
    const mlpSummary = describeTflite(mlp.bytes);
    expect(mlpSummary.operators).toEqual(['FULLY_CONNECTED', 'FULLY_CONNECTED', 'FULLY_CONNECTED']);
    expect(ioTypes(mlpSummary)).toEqual(['FLOAT32', 'FLOAT32']);
    expect(mlpSummary.tensors[mlpSummary.outputs[0]!]!.shape.at(-1)).toBe(10);

    const cnn = await download(testHub, '/v1/models/cnn/versions/latest/artifact?format=tflite&encoding=fp32');
    expect(cnn.headers['content-disposition']).toBe('attachment; filename="cnn-v1.tflite"');
    const cnnSummary = describeTflite(cnn.bytes);
    expect(cnnSummary.operators).toContain('CONV_2D');
    expect(cnnSummary.operators).toContain('MAX_POOL_2D');
    expect(cnnSummary.operators.at(-1)).toBe('FULLY_CONNECTED');
    expect(ioTypes(cnnSummary)).toEqual(['FLOAT32', 'FLOAT32']);

    // Derived once, kept by content address: the same file again, one stored blob per model.
    const again = await download(testHub, '/v1/models/mlp/versions/1/artifact?format=tflite');
    expect(again.headers['x-sha256']).toBe(mlp.headers['x-sha256']);
    const rows = testHub.hub.store.db.prepare('SELECT sha256 FROM artifacts WHERE media_type = ? ORDER BY sha256').all(TFLITE_MEDIA_TYPE);
    expect(rows).toEqual([mlp.headers['x-sha256'], cnn.headers['x-sha256']].sort().map((sha256) => ({ sha256 })));
    // The default format is still the ModelBlob.
    expect((await download(testHub, '/v1/models/mlp/versions/1/artifact')).headers['content-disposition']).toBeUndefined();
  });

  it('int8: 409 with the command to run before a quantization; `models quantize` builds it, int8 in and out, `models export --int8` writes it', async () => {
    const testHub = await hubWithModels();
    await uploadDigits(testHub);
    const before = await download(testHub, '/v1/models/mlp/versions/1/artifact?format=tflite&encoding=int8');
    expect([before.status, before.json().error.code]).toEqual([409, 'HUB_ERR_NOT_QUANTIZED']);
    expect(before.json().error.message).toContain('run `fedfleet models quantize mlp --version 1 --calibrate fleet|dataset:<name>` first');
    const refused = await fedfleet(testHub, ['models', 'export', 'mlp', '--version', '1', '--int8'], tempDir());
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/^error HUB_ERR_NOT_QUANTIZED: version 1 of mlp has no completed/)]);

    const quantized = await fedfleet(testHub, ['models', 'quantize', 'mlp', '--version', '1', '--calibrate', 'dataset:digits', '--poll-ms', '20']);
    expect([quantized.code, quantized.stderr.split('\n').filter((l) => l.startsWith('error'))]).toEqual([0, []]);
    const [job] = (await testHub.api<QuantizationJson[]>('GET', '/v1/models/mlp/versions/1/quantizations')).body;
    expect(job).toMatchObject({ state: 'done', calibration: 'dataset', datasetName: 'digits', exampleCount: DIGITS });
    expect(quantized.stdout).toContain(`quantization ${job!.id} done: int8 .tflite`);
    expect(quantized.stdout).toContain(`calibration dataset:digits: ${DIGITS} examples`);
    expect(quantized.stdout).toMatch(/^input +0\.\d+ +0\.9\d+$/m);

    const int8 = await download(testHub, '/v1/models/mlp/versions/1/artifact?format=tflite&encoding=int8');
    expect(int8.status).toBe(200);
    expect(int8.headers).toMatchObject({ 'x-sha256': job!.artifact!.sha256, 'content-disposition': 'attachment; filename="mlp-v1-int8.tflite"' });
    const summary = describeTflite(int8.bytes);
    expect(ioTypes(summary)).toEqual(['INT8', 'INT8']);
    expect(summary.operators.filter((op) => op === 'FULLY_CONNECTED')).toHaveLength(3);

    // The CLI writes the endpoint's bytes, under the name the hub gives.
    const cwd = tempDir();
    const exported = await fedfleet(testHub, ['models', 'export', 'mlp', '--version', '1', '--int8'], cwd);
    expect([exported.code, exported.stderr]).toEqual([0, '']);
    expect(exported.stdout).toBe(`wrote ${join(cwd, 'mlp-v1-int8.tflite')}: ${int8.bytes.length} bytes, sha256 ${job!.artifact!.sha256}\n`);
    expect(readFileSync(join(cwd, 'mlp-v1-int8.tflite'))).toEqual(int8.bytes);
    const float = await fedfleet(testHub, ['models', 'export', 'mlp', '-o', 'float.tflite'], cwd);
    expect(float.code).toBe(0);
    expect(readFileSync(join(cwd, 'float.tflite'))).toEqual((await download(testHub, '/v1/models/mlp/versions/1/artifact?format=tflite')).bytes);

    // `models show` lists the version's quantizations.
    const shown = await fedfleet(testHub, ['models', 'show', 'mlp']);
    expect(shown.stdout).toMatch(new RegExp(`^quantizations of version 1\\nID +STATE +CALIBRATION +DEVICES +EXAMPLES +INT8 SIZE +SHA256 +CREATED\\n${job!.id} +done +dataset:digits +- +${DIGITS} `, 'm'));
    const json = JSON.parse((await fedfleet(testHub, ['models', 'show', 'mlp', '--json'])).stdout) as { quantizations: QuantizationJson[] };
    expect(json.quantizations.map((q) => q.id)).toEqual([job!.id]);
  });

  it('`models quantize --no-wait` prints the started job', async () => {
    const testHub = await hubWithModels();
    await uploadDigits(testHub);
    const run = await fedfleet(testHub, ['models', 'quantize', 'mlp', '--calibrate', 'dataset:digits', '--no-wait']);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toMatch(/^quantization \S+ of mlp version 1 calibrating: calibration dataset:digits\nfollow it: fedfleet models show mlp --version 1\n$/);
  });

  it('refuses a layer the export cannot express with 422 naming it, and fp16 with 400', async () => {
    const testHub = await startTestHub({ listen: false });
    const topology = { class_name: 'Sequential', config: { layers: [
      { class_name: 'Dense', config: { name: 'squash', units: 3, activation: 'tanh', use_bias: true, batch_input_shape: [null, 4] } },
    ] } };
    await testHub.hub.models.create({
      name: 'tanh', architecture: 'imported', inputShape: [4], numClasses: 3, source: 'import',
      content: { topologyJson: JSON.stringify(topology), weights: [
        { name: 'squash/kernel', shape: [4, 3], data: new Float32Array(12) }, { name: 'squash/bias', shape: [3], data: new Float32Array(3) },
      ] },
    });
    const unsupported = await download(testHub, '/v1/models/tanh/versions/1/artifact?format=tflite');
    expect([unsupported.status, unsupported.json().error.code]).toEqual([422, 'HUB_ERR_EXPORT_UNSUPPORTED']);
    expect(unsupported.json().error.message).toMatch(/^version 1 of tanh cannot be exported as \.tflite: .*squash/);
    const fp16 = await download(testHub, '/v1/models/tanh/versions/1/artifact?format=tflite&encoding=fp16');
    expect([fp16.status, fp16.json().error.code]).toEqual([400, 'HUB_ERR_VALIDATION']);
  });
});
