/**
 * `fedfleet rollouts create|ls|show|watch|pause|resume|abort` against a real hub (issue 10 item 6): what the flags
 * become in POST /v1/rollouts, the lifecycle commands, --json shapes, and the watch of a rollout that ended.
 */
import { describe, expect, it } from 'vitest';
import { ROLLOUTS_USAGE } from '../src/cli/commands/rollouts-command.js';
import { ROLLOUT_DEFAULTS } from '../src/rollouts/rollout-request.js';
import type { RolloutDetailJson, RolloutJson } from '../src/rollouts/schemas.js';
import { runCli } from './helpers/cli.js';
import { enrollDevice } from './helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

/** Nothing listens here: a command that sent a request would fail with HUB_ERR_HUB_UNREACHABLE (exit 1), not 2. */
const NO_HUB = { env: { FEDFLEET_HUB: 'http://127.0.0.1:9', FEDFLEET_ADMIN_TOKEN: 'unused' } };

describe('rollouts: command-line mistakes are refused before any request, naming the flag', () => {
  const create = ['rollouts', 'create', 'digits', '--version', '2', '--selector', 'site=lab'];
  const cases: Array<[string[], string]> = [
    [['rollouts', 'create', 'digits', '--selector', 'site=lab'], '--version is required (a version number, id or latest)'],
    [['rollouts', 'create', 'digits', '--version', '2'], "--selector is required (k=v[,k=v]; '' targets every device)"],
    [['rollouts', 'create', '--version', '2', '--selector', 'a=b'], 'usage:'],
    [[...create, '--waves', '5%,x'], '--waves wants shares (5%), device counts (10) or \'all\', separated by commas; got "x" in "5%,x"'],
    [[...create, '--waves', 'all,50%'], '--waves: \'all\' can only be the last wave, got "all,50%"'],
    [[...create, '--waves', '0,5'], '--waves device count must be a positive integer, got "0"'],
    [[...create, '--int8', '--encoding', 'fp16'], '--int8 and --encoding fp16 disagree; give one'],
    [[...create, '--encoding', 'int4'], '--encoding must be one of fp32, fp16, int8, got "int4"'],
    [[...create, '--format', 'onnx'], '--format must be one of tfjs-layers, tflite, got "onnx"'],
    [[...create, '--shadow-first'], '--shadow-first needs --shadow-inferences <N>: the inferences each shadowing device reports before the wave is judged'],
    [[...create, '--shadow-first', '--shadow-inferences', '1.5'], '--shadow-inferences must be a whole number, got "1.5"'],
    [[...create, '--shadow-inferences', '50'], '--shadow-inferences goes with --shadow-first'],
    [[...create, '--success', 'most'], '--success must be a number, got "most"'],
    [[...create, '--max-latency-factor', ''], '--max-latency-factor must be a number, got ""'],
    [[...create, '--soak', 'soon'], 'invalid duration "soon" (use e.g. 90s, 30m, 24h, 7d)'],
    [[...create, '--device-timeout', '5 minutes'], 'invalid duration "5 minutes" (use e.g. 90s, 30m, 24h, 7d)'],
    [['rollouts', 'ls', '--waves', '5%'], '--waves goes with rollouts create, not rollouts ls'],
    [['rollouts', 'abort', 'r1', '--selector', 'a=b'], '--selector goes with rollouts create, not rollouts abort'],
    [['rollouts', 'show', 'r1', '--reason', 'x'], '--reason goes with rollouts pause, not rollouts show'],
    [['rollouts', 'ls', '--state', 'done'], '--state must be one of running, paused, completed, aborted, superseded, got "done"'],
    [['rollouts', 'show'], 'usage: fedfleet rollouts show <id>'],
    [['rollouts', 'pause', 'r1', 'r2'], 'usage: fedfleet rollouts pause <id>'],
    [['rollouts', 'roll'], 'unknown rollouts command "roll"'],
    [['rollouts', 'ls', '--bogus'], "Unknown option '--bogus'"],
  ];
  it.each(cases)('%j → %s', async (argv, message) => {
    const run = await runCli(argv, NO_HUB);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
    expect(run.stderr.startsWith(`error HUB_ERR_CLI_USAGE: ${message}`)).toBe(true);
  });

  it('help lists every action and states the hub\'s defaults', async () => {
    const help = await runCli(['rollouts', '--help'], NO_HUB);
    expect(help).toEqual({ code: 0, stdout: ROLLOUTS_USAGE, stderr: '' });
    for (const action of ['create', 'ls', 'show', 'watch', 'pause|resume|abort']) expect(help.stdout).toContain(`fedfleet rollouts ${action}`);
    const D = ROLLOUT_DEFAULTS;
    for (const shown of ['[--waves 5%,25%,100%]', `[--max-accuracy-drop ${D.maxAccuracyDropPts}]`, `[--max-latency-factor ${D.maxLatencyFactor}]`,
      '[--soak 0s]', `[--success ${D.successThreshold}]`, `[--error ${D.errorThreshold}]`, '[--device-timeout 5m]']) {
      expect(help.stdout).toContain(shown);
    }
    expect((await runCli(['--help'], NO_HUB)).stdout).toContain('rollouts create|ls|show|watch|pause|resume|abort');
  });
});

/** A hub with model `digits` (version 1) and two offline devices labelled site=lab: their targets stay pending. */
async function hubWithTargets() {
  const testHub = await startTestHub();
  const created = await testHub.api('POST', '/v1/models', { name: 'digits', architecture: 'mnist-2nn' });
  expect(created.status).toBe(201);
  const devices = [await enrollDevice(testHub, { name: 'pi-1', tokenLabels: { site: 'lab' } }), await enrollDevice(testHub, { name: 'pi-2', tokenLabels: { site: 'lab' } })];
  const env = { env: { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } };
  const cli = (...argv: string[]) => runCli(['rollouts', ...argv], env);
  return { testHub, devices, cli };
}

describe('rollouts against a hub', () => {
  it('create sends what the flags say; show, pause, resume, abort; --json shapes; watch of the aborted rollout exits 1', async () => {
    const { devices, cli } = await hubWithTargets();
    const created = await cli('create', 'digits', '--version', '1', '--selector', 'site=lab', '--waves', '1,all', '--success', '0.5',
      '--error', '0.25', '--soak', '2m', '--max-accuracy-drop', '1.5', '--max-latency-factor', '3', '--device-timeout', '90s', '--no-continuous',
      '--shadow-first', '--shadow-inferences', '40', '--json');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const rollout = JSON.parse(created.stdout) as RolloutDetailJson;
    expect(rollout).toMatchObject({
      modelName: 'digits', version: 1, format: 'tfjs-layers', encoding: 'fp32', selector: 'site=lab', state: 'running', continuous: false,
      gate: { maxAccuracyDropPts: 1.5, maxLatencyFactor: 3 }, deviceTimeoutSec: 90, counts: { total: 2 },
      waves: [
        { number: 1, devices: 1, percent: null, successThreshold: 0.5, errorThreshold: 0.25, soakSec: 120, shadow: { minInferences: 40, maxAccuracyDropPts: 1.5 } },
        { number: 2, devices: null, percent: 100, successThreshold: 0.5, errorThreshold: 0.25, soakSec: 120, shadow: null },
      ],
    });
    const byWave = [...rollout.targets].sort((a, b) => a.wave - b.wave);
    expect(byWave.map((t) => [t.wave, t.mode, t.state])).toEqual([[1, 'shadow', 'pending'], [2, 'activate', 'pending']]);
    expect(byWave.map((t) => t.deviceId).sort()).toEqual(devices.map((d) => d.deviceId).sort());
    const first = byWave[0]!;
    const id = rollout.id;

    const show = await cli('show', id);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^rollout ${id} {2}digits@v1 \\(tfjs-layers fp32\\) {2}running {2}wave 1/2\n`));
    expect(show.stdout).toMatch(/^selector site=lab {2}gate: accuracy drop ≤ 1\.5 pts, p95 latency ≤ 3× {2}device timeout 90s {2}not continuous/m);
    expect(show.stdout).toMatch(/^WAVE +REACH +STATE +DEVICES +HEALTHY +FAILED +ROLLED BACK +SKIPPED +SUCCESS ≥ +ERROR ≤ +SOAK +SHADOW$/m);
    expect(show.stdout).toMatch(/^ +1 +1 device +\w+ +1 +0 +0 +0 +0 +0\.5 +0\.25 +2m +40 inferences$/m);
    expect(show.stdout).toMatch(/^ +2 +100% +pending +1 +0 +0 +0 +0 +0\.5 +0\.25 +2m +-$/m);
    expect(show.stdout).toMatch(new RegExp(`^${first.deviceId} +${first.deviceName} +1 +shadow +pending +- +- +-$`, 'm'));
    expect(JSON.parse((await cli('show', id, '--json')).stdout)).toEqual(expect.objectContaining({ id, targets: expect.any(Array) }));

    expect((await cli('pause', id)).stdout).toBe(`rollout ${id} paused\n`);
    const listed = await cli('ls', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, state: 'paused', counts: expect.objectContaining({ total: 2 }) })]);
    expect((listed.stdout.match(/"targets"/g) ?? []).length).toBe(0);
    const table = await cli('ls');
    expect(table.stdout).toMatch(/^ID +VERSION +SELECTOR +STATE +WAVE +DEVICES +HEALTHY +FAILED +ROLLED BACK +CREATED\n/);
    expect(table.stdout).toMatch(new RegExp(`^${id} +digits@v1 \\(tfjs-layers fp32\\) +site=lab +paused +1/2 +2 +0 +0 +0 +\\S+$`, 'm'));
    expect((await cli('ls', '--state', 'running')).stdout).toBe('no rollouts\n');

    const resumed = JSON.parse((await cli('resume', id, '--json')).stdout) as RolloutDetailJson;
    expect(resumed.state).toBe('running');
    // A resumed rollout cannot be resumed again: the hub's code reaches the user.
    const again = await cli('resume', id);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/^error HUB_ERR_ROLLOUT_STATE: /)]);

    const aborted = await cli('abort', id, '--reason', 'wrong model');
    expect(aborted.stdout).toBe(`rollout ${id} aborted: changed devices go back to their previous version\n`);
    const detail = JSON.parse((await cli('show', id, '--json')).stdout) as RolloutJson;
    expect(detail).toMatchObject({ state: 'aborted', errorCode: 'HUB_ERR_ROLLOUT_ABORTED', reason: 'wrong model' });

    const watched = await cli('watch', id);
    expect(watched.code).toBe(1);
    expect(JSON.parse((await cli('watch', id, '--json')).stdout)).toMatchObject({ id, state: 'aborted' });
    expect(watched.stdout.split('\n').at(-2)).toMatch(new RegExp(`^rollout ${id} aborted: .*of 2 devices \\(HUB_ERR_ROLLOUT_ABORTED: wrong model\\)$`));
    expect((await cli('show', 'no-such-rollout')).stderr).toMatch(/^error HUB_ERR_ROLLOUT_NOT_FOUND: /);
  });

  it('watch of a completed rollout exits 0; create --watch follows the rollout it created', async () => {
    const { cli } = await hubWithTargets();
    const plain = await cli('create', 'digits', '--version', '1', '--selector', 'site=nowhere', '--waves', '50%,all');
    expect(plain.stdout).toMatch(/^rollout \S+: digits@v1 \(tfjs-layers fp32\) to 0 devices in 2 waves\n$/);
    // No device matches: every wave passes at once and the rollout completes.
    const run = await cli('create', 'digits', '--version', 'latest', '--selector', 'site=nowhere', '--watch');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const id = /^rollout (\S+): digits@v1 \(tfjs-layers fp32\) to 0 devices in 3 waves, (running|completed)$/.exec(lines[0]!)?.[1];
    expect(id).toBeDefined();
    expect(lines.at(-1)).toBe(`rollout ${id} completed: no target devices`);
    const watched = await cli('watch', id!);
    expect([watched.code, watched.stdout.trim().split('\n').at(-1)]).toEqual([0, `rollout ${id} completed: no target devices`]);
    // --json: nothing while it runs, then the rollout as it ended (one JSON value).
    const json = await cli('watch', id!, '--json');
    expect([json.code, JSON.parse(json.stdout)]).toEqual([0, expect.objectContaining({ id, state: 'completed', targets: [] })]);
    const createdJson = await cli('create', 'digits', '--version', '1', '--selector', 'site=nowhere', '--watch', '--json');
    expect([createdJson.code, JSON.parse(createdJson.stdout)]).toEqual([0, expect.objectContaining({ state: 'completed', modelName: 'digits' })]);
  });
});
