/**
 * `fedfleet rollouts watch`: the event-stream reader (text/event-stream records however the bytes are split) and what
 * the watch prints from a rollout's events — per-wave bars on a terminal, plain lines otherwise.
 */
import { describe, expect, it } from 'vitest';
import { readEventStream, type StreamedEvent } from '../src/cli/event-stream.js';
import type { CliIo } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { createRolloutWatchDisplay, type RolloutWatchEvent } from '../src/cli/rollout-watch-display.js';
import { TARGET_STATES } from '../src/rollouts/rollout-state.js';
import type { RolloutDetailJson, TargetCountsJson, WaveJson } from '../src/rollouts/schemas.js';
import { enrollDevice } from './helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(chunks: string[]): Promise<StreamedEvent[]> {
  const events: StreamedEvent[] = [];
  for await (const event of readEventStream(streamOf(chunks))) events.push(event);
  return events;
}

describe('event stream reader', () => {
  it('reads named JSON records across any chunking, CRLF or CR line ends, comments and multi-line data', async () => {
    const text = 'retry: 3000\n: connected\n\nid: 1\nevent: rollout.state\ndata: {"a":1}\n\n: keepalive\n\r\n' +
      'event: rollout.wave\r\ndata: {"b":\r\ndata: 2}\r\n\r\nevent:x\rdata:plain\r\r';
    const expected = [{ name: 'rollout.state', data: { a: 1 } }, { name: 'rollout.wave', data: { b: 2 } }, { name: 'x', data: 'plain' }];
    expect(await collect([text])).toEqual(expected);
    // Every split point, including between the CR and LF of a CRLF, gives the same records.
    for (let cut = 1; cut < text.length; cut++) {
      expect({ cut, events: await collect([text.slice(0, cut), text.slice(cut)]) }).toEqual({ cut, events: expected });
    }
  });
});

function counts(partial: Partial<TargetCountsJson>): TargetCountsJson {
  const all = Object.fromEntries(TARGET_STATES.map((s) => [s, 0])) as unknown as TargetCountsJson;
  Object.assign(all, partial);
  all.total = TARGET_STATES.reduce((sum, s) => sum + all[s], 0);
  return all;
}

function wave(number: number, state: WaveJson['state'], c: TargetCountsJson): WaveJson {
  return {
    number, percent: number === 1 ? 50 : 100, devices: null, successThreshold: 0.9, errorThreshold: 0.1, soakSec: 0, shadow: null, state,
    size: c.total, counts: c, healthy: c.healthy, failed: c.failed, shadowResult: null, startedAt: null, soakEndsAt: null, finishedAt: null,
  };
}

function rollout(state: RolloutDetailJson['state'], waves: WaveJson[], extra: Partial<RolloutDetailJson> = {}): RolloutDetailJson {
  const total = counts({});
  for (const w of waves) for (const s of TARGET_STATES) total[s] += w.counts[s];
  total.total = waves.reduce((sum, w) => sum + w.size, 0);
  return {
    id: 'r1', modelId: 'm1', modelName: 'digits', versionId: 'v2', version: 2, format: 'tflite', encoding: 'int8', bundleSha256: 'ab',
    selector: 'site=lab', gate: { maxAccuracyDropPts: 2, maxLatencyFactor: 2 }, deviceTimeoutSec: 300, continuous: true, state,
    currentWave: 1, errorCode: null, reason: null, counts: total, waves, createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z', finishedAt: null, targets: [], ...extra,
  };
}

const at = '2024-01-01T00:00:01.000Z';
const waveEvent = (n: number, state: WaveJson['state'], c: TargetCountsJson): RolloutWatchEvent => ({
  name: 'rollout.wave', data: { rolloutId: 'r1', wave: n, waves: 2, state, size: c.total, healthy: c.healthy, failed: c.failed, counts: c, at },
});
const targetEvent = (n: number, deviceId: string, state: (typeof TARGET_STATES)[number], c: TargetCountsJson, why?: [string, string]): RolloutWatchEvent => ({
  name: 'rollout.target',
  data: { rolloutId: 'r1', deviceId, wave: n, from: 'pending', state, errorCode: why?.[0] ?? null, reason: why?.[1] ?? null, counts: c, at },
});

/** A second wave whose device fails the accuracy gate, and the abort that rolls the first wave's device back. */
function abortedRun(tty: boolean): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (chunk: string) => ((stdout += chunk), true) } as never,
    stderr: { isTTY: tty, columns: 100, write: (chunk: string) => ((stderr += chunk), true) } as never,
    env: {}, cwd: '/',
  };
  const display = createRolloutWatchDisplay(io);
  display.sync(rollout('running', [wave(1, 'deploying', counts({ pending: 2 })), wave(2, 'pending', counts({ pending: 2 }))]));
  display.apply(targetEvent(1, 'd1', 'downloading', counts({ pending: 1, downloading: 1 })));
  display.apply(targetEvent(1, 'd1', 'healthy', counts({ pending: 1, healthy: 1 })));
  display.apply({ name: 'rollout.state', data: { rolloutId: 'r1', state: 'paused', currentWave: 1, errorCode: null, reason: null, at } });
  display.apply({ name: 'rollout.state', data: { rolloutId: 'r1', state: 'running', currentWave: 1, errorCode: null, reason: null, at } });
  display.apply(targetEvent(1, 'd2', 'healthy', counts({ healthy: 2 })));
  display.apply(waveEvent(1, 'passed', counts({ healthy: 2 })));
  display.apply(waveEvent(2, 'deploying', counts({ pending: 2 })));
  display.apply(targetEvent(2, 'd3', 'failed', counts({ pending: 1, failed: 1 }), ['HUB_ERR_ROLLOUT_GATE', 'accuracy dropped 9.0 points (limit 2)']));
  display.apply({ name: 'rollout.state', data: { rolloutId: 'r1', state: 'aborted', currentWave: 2, errorCode: 'HUB_ERR_ROLLOUT_ERROR_THRESHOLD', reason: 'wave 2: 1 of 2 failed', at } });
  display.apply(waveEvent(2, 'aborted', counts({ skipped: 1, failed: 1 })));
  display.apply(targetEvent(1, 'd1', 'rolled-back', counts({ healthy: 1, 'rolled-back': 1 })));
  display.finish(rollout('aborted', [wave(1, 'passed', counts({ 'rolled-back': 2 })), wave(2, 'aborted', counts({ skipped: 1, 'rolled-back': 1 }))], {
    errorCode: 'HUB_ERR_ROLLOUT_ERROR_THRESHOLD', reason: 'wave 2: 1 of 2 failed',
  }));
  return { stdout, stderr };
}

describe('rollouts watch output', () => {
  it('without a terminal: one line per wave change, per settled device with its code and reason, and the end', () => {
    const { stdout, stderr } = abortedRun(false);
    expect(stderr).toBe('');
    expect(stdout.split('\n')).toEqual([
      'rollout r1: digits@v2 (tflite int8) to 4 devices in 2 waves, running',
      'wave 1/2 deploying: 2 devices',
      'wave 1 device d1: healthy',
      'rollout paused',
      'rollout running',
      'wave 1 device d2: healthy',
      'wave 1/2 passed: 2 healthy',
      'wave 2/2 deploying: 2 devices',
      'wave 2 device d3: failed (HUB_ERR_ROLLOUT_GATE: accuracy dropped 9.0 points (limit 2))',
      'rollout aborted: HUB_ERR_ROLLOUT_ERROR_THRESHOLD: wave 2: 1 of 2 failed',
      'wave 2/2 aborted: 1 failed, 1 skipped',
      'wave 1 device d1: rolled-back',
      'rollout r1 aborted: 3 rolled back, 1 skipped of 4 devices (HUB_ERR_ROLLOUT_ERROR_THRESHOLD: wave 2: 1 of 2 failed)',
      '',
    ]);
  });

  it('on a terminal: a progress bar per wave on stderr, each finished with its outcome; the summary on stdout', () => {
    const { stdout, stderr } = abortedRun(true);
    const lines = stderr.split('\n');
    // Wave 1's bar was redrawn as its devices settled and finished "passed"; wave 2's finished "aborted".
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/\rwave 1\/2 passed: 2 healthy \[#+\] 100% 2\/2\u001b\[K passed$/);
    expect(lines[0]).toContain('wave 1/2 deploying: 1 healthy [');
    expect(lines[0]).toContain('wave 1/2 deploying: 1 healthy (paused) [');
    expect(lines[1]).toMatch(/\rwave 2\/2 aborted: 1 failed, 1 skipped \[#+\] 100% 2\/2\u001b\[K aborted$/);
    expect(lines[2]).toBe('');
    expect(stdout).toBe('rollout r1: digits@v2 (tflite int8) to 4 devices in 2 waves, running\n' +
      'rollout r1 aborted: 3 rolled back, 1 skipped of 4 devices (HUB_ERR_ROLLOUT_ERROR_THRESHOLD: wave 2: 1 of 2 failed)\n');
  });
});

describe('rollouts watch against a hub', () => {
  it('follows the event stream: the abort of a running rollout, its devices skipped with the reason, exit 1', async () => {
    const testHub = await startTestHub();
    expect((await testHub.api('POST', '/v1/models', { name: 'digits', architecture: 'mnist-2nn' })).status).toBe(201);
    const device = await enrollDevice(testHub, { name: 'away', tokenLabels: { site: 'lab' } });
    // The device is offline: its target stays pending and the rollout runs until it is aborted.
    const created = await testHub.api<RolloutDetailJson>('POST', '/v1/rollouts', { model: 'digits', version: 1, selector: 'site=lab' });
    expect(created.status).toBe(201);
    const id = created.body.id;

    let stdout = '';
    let headerShown: () => void;
    const header = new Promise<void>((resolve) => (headerShown = resolve));
    const io: CliIo = {
      stdout: { write: (chunk: string) => ((stdout += chunk), stdout.includes('\n') && headerShown(), true) } as never,
      stderr: { isTTY: false, write: () => true } as never,
      env: { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN }, cwd: '/',
    };
    const watching = main(['rollouts', 'watch', id], io);
    await header; // subscribed and fetched: everything from now on arrives as events
    expect((await testHub.api('POST', `/v1/rollouts/${id}/abort`, { reason: 'wrong model' })).status).toBe(200);
    expect(await watching).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(`rollout ${id}: digits@v1 (tfjs-layers fp32) to 1 device in 3 waves, running`);
    expect(lines).toContain('rollout aborted: HUB_ERR_ROLLOUT_ABORTED: wrong model');
    expect(lines).toContain('wave 1/3 aborted: 1 skipped');
    expect(lines.join("\n")).toContain(`wave 1 device ${device.deviceId}: skipped`);
    expect(lines.at(-1)).toBe(`rollout ${id} aborted: 1 skipped of 1 device (HUB_ERR_ROLLOUT_ABORTED: wrong model)`);
  });

  it('picks the stream up again after the hub restarted, and sees the end', async () => {
    const first = await startTestHub();
    expect((await first.api('POST', '/v1/models', { name: 'digits', architecture: 'mnist-2nn' })).status).toBe(201);
    await enrollDevice(first, { name: 'away', tokenLabels: { site: 'lab' } });
    const id = (await first.api<RolloutDetailJson>('POST', '/v1/rollouts', { model: 'digits', version: 1, selector: 'site=lab' })).body.id;
    let stdout = '';
    let headerShown: () => void;
    const header = new Promise<void>((resolve) => (headerShown = resolve));
    const io: CliIo = {
      stdout: { write: (chunk: string) => ((stdout += chunk), headerShown(), true) } as never,
      stderr: { isTTY: false, write: () => true } as never,
      env: { FEDFLEET_HUB: first.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN }, cwd: '/',
    };
    const watching = main(['rollouts', 'watch', id], io);
    await header;
    await first.hub.close();
    const port = Number(new URL(first.httpUrl).port);
    const second = await startTestHub({ dataDir: first.dataDir, config: { httpPort: port } });
    expect((await second.api('POST', `/v1/rollouts/${id}/abort`, { reason: 'after the restart' })).status).toBe(200);
    expect(await watching).toBe(1);
    expect(stdout.trim().split('\n').at(-1)).toBe(`rollout ${id} aborted: 1 skipped of 1 device (HUB_ERR_ROLLOUT_ABORTED: after the restart)`);
  });
});
