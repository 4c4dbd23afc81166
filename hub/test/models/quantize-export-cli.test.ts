/**
 * `fedfleet models quantize|export|show` against a scripted hub, so each output is exact and no fleet is needed:
 * following a job to its end (progress bar, result, the job's own error code on failure), --no-wait, usage errors
 * that name the flag before any request, help that states the hub's defaults, and a download that does not match the
 * sha256 the hub announced never reaching the disk. The same commands against a real hub: tflite-artifact.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MODELS_QUANTIZE_USAGE } from '../../src/cli/commands/models-quantize-command.js';
import { QUANTIZATION_DEFAULTS } from '../../src/quantize/quantization-request.js';
import type { QuantizationJson } from '../../src/quantize/schemas.js';
import { sha256Hex } from '../../src/store/blobs.js';
import { runCli } from '../helpers/cli.js';
import { scriptedHub } from '../helpers/scripted-hub.js';

const CLI_DOC = fileURLToPath(new URL('../../docs/cli.md', import.meta.url));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fedfleet-export-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const fedfleet = (args: string[], options: { tty?: boolean; cwd?: string } = {}) =>
  runCli(args, { ...options, env: { FEDFLEET_ADMIN_TOKEN: 'test-token' } });

function job(fields: Partial<QuantizationJson> = {}): QuantizationJson {
  return {
    id: 'q1', modelId: 'm1', versionId: 'v3', version: 3, calibration: 'fleet', selector: 'site=lab', minDevices: 1, maxDevices: null,
    deadlineSec: 120, percentile: 100, histogramBins: 2048, maxExamplesPerDevice: 0, state: 'calibrating', devicesAsked: 3,
    devicesReported: 0, devicesRejected: 0, exampleCount: 0, createdAt: '2024-01-01T00:00:00.000Z', evaluate: null, ...fields,
  };
}

const DONE = job({
  state: 'done', devicesReported: 2, devicesRejected: 1, exampleCount: 1200,
  ranges: [{ name: 'input', min: 0, max: 1 }, { name: 'dense_1', min: -3.25, max: 7.5 }],
  artifact: { sha256: 'ab'.repeat(32), sizeBytes: 205_000, format: 'tflite', encoding: 'int8' },
});

/** A hub whose job answers `polls` in turn (the last one from then on). */
async function hubWithJob(polls: QuantizationJson[]) {
  let next = 0;
  return scriptedHub(({ key }) => {
    if (key === 'POST /v1/models/mlp/versions/3/quantizations') return { status: 202, body: job() };
    if (key === 'GET /v1/quantizations/q1') return { body: polls[Math.min(next++, polls.length - 1)] };
    return undefined;
  });
}

describe('fedfleet models quantize', () => {
  it('follows the job with a progress bar of devices reported / asked, then prints ranges, devices and the artifact', async () => {
    const hub = await hubWithJob([job({ devicesReported: 1 }), job({ state: 'building', devicesReported: 2, devicesRejected: 1 }), DONE]);
    const run = await fedfleet(['models', 'quantize', 'mlp', '--version', '3', '--calibrate', 'fleet', '--selector', 'site=lab',
      '--percentile', '99.9', '--min-devices', '2', '--deadline', '90s', '--poll-ms', '1', '--hub', hub.url], { tty: true });
    expect(run.code).toBe(0);
    expect(hub.bodies[0]).toEqual({ calibrate: 'fleet', selector: 'site=lab', percentile: 99.9, minDevices: 2, deadlineSec: 90 });
    expect(run.stderr).toContain('calibrating: devices reported [');
    expect(run.stderr).toMatch(/ 33% 1\/3/);
    expect(run.stderr).toContain('building the int8 model [');
    expect(run.stderr.trimEnd().endsWith(' done')).toBe(true);
    expect(run.stdout).toBe([
      `quantization q1 done: int8 .tflite 200 KiB sha256 ${'ab'.repeat(32)}`,
      'calibration fleet: devices 2/3 (1 rejected), 1200 examples',
      'TENSOR   MIN      MAX',
      'input    0.0000   1.0000',
      'dense_1  -3.2500  7.5000',
      'export it: fedfleet models export mlp --version 3 --format tflite --int8',
      '',
    ].join('\n'));
  });

  it('follows the fleet evaluation of the int8 file and prints its accuracy and refusals; --eval-selector and --no-eval set evaluate', async () => {
    const evaluating = job({ state: 'evaluating', devicesReported: 2, fleetEval: { state: 'evaluating', devicesAsked: 4, devices: 1, examples: 400, accuracy: 0.9, loss: 0.3, refused: [] } });
    const tooLarge = 'the model does not fit this device profile: int8 model on mcu-m0: needs 15.2 KiB (15516 bytes) flash, profile has 8 KiB (8192 bytes)';
    const evaluated: QuantizationJson = {
      ...DONE, evaluate: { selector: 'tier=mcu' }, fleetEval: {
        state: 'done', devicesAsked: 4, devices: 3, examples: 1200, accuracy: 0.91354, loss: 0.3,
        refused: [{ deviceId: 'dev-m0', code: 'AGENT_ERR_MODEL_TOO_LARGE', reason: tooLarge }],
      },
    };
    const hub = await hubWithJob([evaluating, evaluated]);
    const run = await fedfleet(['models', 'quantize', 'mlp', '--version', '3', '--calibrate', 'fleet', '--eval-selector', 'tier=mcu', '--poll-ms', '1', '--hub', hub.url], { tty: true });
    expect([run.code, hub.bodies[0]]).toEqual([0, { calibrate: 'fleet', evaluate: { selector: 'tier=mcu' } }]);
    expect(run.stderr).toContain('evaluating the int8 model on the fleet: devices answered [');
    expect(run.stderr).toMatch(/ 25% 1\/4/);
    expect(run.stdout.split('\n').slice(-4)).toEqual([
      'fleet evaluation done: int8 accuracy 91.35% on 3/4 devices, 1200 examples, 1 refused',
      `refused by dev-m0: AGENT_ERR_MODEL_TOO_LARGE: ${tooLarge}`,
      'export it: fedfleet models export mlp --version 3 --format tflite --int8',
      '',
    ]);
    expect((await fedfleet(['models', 'quantize', 'mlp', '--version', '3', '--calibrate', 'fleet', '--no-eval', '--poll-ms', '1', '--hub', hub.url])).code).toBe(0);
    const posted = () => hub.bodies.filter((body) => body !== undefined);
    expect(posted()[1]).toEqual({ calibrate: 'fleet', evaluate: false });
    const both = await fedfleet(['models', 'quantize', 'mlp', '--calibrate', 'fleet', '--no-eval', '--eval-selector', 'a=b', '--hub', hub.url]);
    expect([both.code, both.stderr]).toEqual([2, 'error HUB_ERR_CLI_USAGE: --no-eval and --eval-selector contradict each other\n']);
    expect(posted()).toHaveLength(2);
  });

  it('exits 1 with the job\'s own error code when it fails; --json prints the final job and exits 1 too', async () => {
    const failed = job({ state: 'failed', errorCode: 'HUB_ERR_QUANTIZATION_TOO_FEW_REPORTS', error: '1 valid calibration reports, 2 needed', devicesReported: 1 });
    const hub = await hubWithJob([failed]);
    const run = await fedfleet(['models', 'quantize', 'mlp', '--version', '3', '--calibrate', 'fleet', '--poll-ms', '1', '--hub', hub.url]);
    expect([run.code, run.stdout]).toEqual([1, '']);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('error HUB_ERR_QUANTIZATION_TOO_FEW_REPORTS: quantization q1 failed: 1 valid calibration reports, 2 needed');
    const json = await fedfleet(['models', 'quantize', 'mlp', '--version', '3', '--calibrate', 'fleet', '--poll-ms', '1', '--json', '--hub', hub.url]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'q1', state: 'failed', errorCode: 'HUB_ERR_QUANTIZATION_TOO_FEW_REPORTS' });
  });

  it('--no-wait prints the started job and polls nothing', async () => {
    const hub = await hubWithJob([DONE]);
    const run = await fedfleet(['models', 'quantize', 'mlp', '--version', '3', '--calibrate', 'fleet', '--no-wait', '--hub', hub.url]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toBe('quantization q1 of mlp version 3 calibrating: calibration fleet, 3 devices asked\nfollow it: fedfleet models show mlp --version 3\n');
    const json = await fedfleet(['models', 'quantize', 'mlp', '--version', '3', '--calibrate', 'fleet', '--no-wait', '--json', '--hub', hub.url]);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'q1', state: 'calibrating', devicesAsked: 3 });
    expect(hub.requests.filter((r) => r.startsWith('GET'))).toEqual([]);
  });

  it('refuses a wrong command line with a usage error naming the flag, before any request', async () => {
    const hub = await hubWithJob([DONE]);
    const cases: [string[], string][] = [
      [['mlp'], '--calibrate fleet or --calibrate dataset:<name> is required'],
      [['mlp', '--calibrate', 'everywhere'], '--calibrate fleet or --calibrate dataset:<name> is required'],
      [['mlp', '--calibrate', 'dataset:digits', '--selector', 'site=lab'], '--selector picks devices: it goes with --calibrate fleet'],
      [['mlp', '--calibrate', 'fleet', '--percentile', 'high'], '--percentile must be a number, got "high"'],
      [['mlp', '--calibrate', 'fleet', '--min-devices', '0'], '--min-devices must be a positive integer, got "0"'],
      [['mlp', '--calibrate', 'fleet', '--deadline', 'soon'], 'invalid duration "soon" (use e.g. 90s, 30m, 24h, 7d)'],
    ];
    for (const [args, message] of cases) {
      const run = await fedfleet(['models', 'quantize', ...args, '--hub', hub.url]);
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 2, stderr: `error HUB_ERR_CLI_USAGE: ${message}\n` });
    }
    const noModel = await fedfleet(['models', 'quantize', '--calibrate', 'fleet', '--hub', hub.url]);
    expect([noModel.code, noModel.stderr]).toEqual([2, `error HUB_ERR_CLI_USAGE: usage:\n${MODELS_QUANTIZE_USAGE}\n`]);
    expect(hub.requests).toEqual([]);
  });

  it('help states the hub\'s defaults, and the CLI table of hub/docs/cli.md the same', async () => {
    const help = await fedfleet(['models', 'quantize', '--help']);
    expect(help.stdout).toBe(`Usage:\n${MODELS_QUANTIZE_USAGE}`);
    const shownDefaults = (text: string) => Object.fromEntries([...text.matchAll(/\[--([a-z-]+) ([^\s\]<|…]+)\]/g)].map((m) => [m[1]!, m[2]!]));
    expect(shownDefaults(MODELS_QUANTIZE_USAGE)).toEqual({
      version: 'latest', percentile: String(QUANTIZATION_DEFAULTS.percentile), 'min-devices': String(QUANTIZATION_DEFAULTS.minDevices),
      deadline: `${QUANTIZATION_DEFAULTS.deadlineSec / 60}m`,
    });
    const docRow = readFileSync(CLI_DOC, 'utf8').split('\n').find((line) => line.startsWith('| `fedfleet models quantize '));
    expect(shownDefaults(docRow ?? '')).toEqual(shownDefaults(MODELS_QUANTIZE_USAGE));
    expect((await fedfleet(['models', '--help'])).stdout).toContain(MODELS_QUANTIZE_USAGE);
  });
});

describe('fedfleet models export', () => {
  const ARTIFACT = '/v1/models/mlp/versions/3/artifact?format=tflite&encoding=int8';

  it('writes nothing when the bytes do not hash to the X-Sha256 the hub announced', async () => {
    const bytes = Buffer.from('TFL3 not really');
    const hub = await scriptedHub(({ key }) => key === `GET ${ARTIFACT}`
      ? { body: bytes, headers: { 'x-sha256': sha256Hex(Buffer.from('something else')), 'content-disposition': 'attachment; filename="mlp-v3-int8.tflite"' } }
      : undefined);
    const cwd = tempDir();
    const run = await fedfleet(['models', 'export', 'mlp', '--version', '3', '--int8', '--hub', hub.url], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error HUB_ERR_DOWNLOAD_CORRUPT: .*received 15 bytes with sha256 [0-9a-f]{64}, the hub announced [0-9a-f]{64}\n$/);
    expect(existsSync(join(cwd, 'mlp-v3-int8.tflite'))).toBe(false);
  });

  it('saves under the name the hub gives, reduced to a base name; -o overrides it', async () => {
    const bytes = Buffer.from('TFL3 bytes');
    const hub = await scriptedHub(({ key }) => key === `GET ${ARTIFACT}`
      ? { body: bytes, headers: { 'x-sha256': sha256Hex(bytes), 'content-disposition': 'attachment; filename="../mlp-v3-int8.tflite"' } }
      : undefined);
    // A name that climbs out of the working directory (into the test's own temp directory, should it get there).
    const cwd = join(tempDir(), 'work');
    mkdirSync(cwd);
    const run = await fedfleet(['models', 'export', 'mlp', '--version', '3', '--int8', '--hub', hub.url], { cwd });
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toBe(`wrote ${join(cwd, 'mlp-v3-int8.tflite')}: 10 bytes, sha256 ${sha256Hex(bytes)}\n`);
    expect(readFileSync(join(cwd, 'mlp-v3-int8.tflite'))).toEqual(bytes);
    const named = await fedfleet(['models', 'export', 'mlp', '--version', '3', '--int8', '-o', 'out.tflite', '--json', '--hub', hub.url], { cwd });
    expect(JSON.parse(named.stdout)).toEqual({ path: join(cwd, 'out.tflite'), sizeBytes: 10, sha256: sha256Hex(bytes), encoding: 'int8' });
  });

  it('refuses another format or a missing model as a usage error, before any request', async () => {
    const hub = await scriptedHub(() => undefined);
    const onnx = await fedfleet(['models', 'export', 'mlp', '--format', 'onnx', '--hub', hub.url]);
    expect([onnx.code, onnx.stderr]).toEqual([2, 'error HUB_ERR_CLI_USAGE: --format "onnx": the export format is tflite\n']);
    const none = await fedfleet(['models', 'export', '--hub', hub.url]);
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/^error HUB_ERR_CLI_USAGE: usage:\n {2}fedfleet models export <name\|id>/)]);
    expect(hub.requests).toEqual([]);
  });
});
