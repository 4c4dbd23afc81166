import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onTestFinished } from 'vitest';
import { runCli, type CliRun } from './helpers/cli.js';
import { parseDurationSec } from '../src/cli/args.js';
import { createProgress } from '../src/cli/progress.js';
import { formatTable } from '../src/cli/table.js';
import { connectDevice, enrollDevice, publishStatus, publishTelemetry, waitFor } from './helpers/devices.js';
import { startTestHub, tempDataDir, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

const BIN = fileURLToPath(new URL('../bin/fedfleet.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `fedfleet` executable in a child process. */
function fedfleet(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** In-process run of main() with captured output (fast; same code path as the binary minus tsx). */
function runMain(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, { env });
}

describe('fedfleet CLI (child process)', () => {
  it('tokens create --json prints one object with the token; devices ls --json an array of devices', async () => {
    const testHub = await startTestHub();
    const env = { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
    const created = await fedfleet(['tokens', 'create', '--labels', 'site=lab,tier=x', '--ttl', '2h', '--max-uses', '5', '--json'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout);
    expect(token).toMatchObject({ labels: { site: 'lab', tier: 'x' }, maxUses: 5 });
    expect(token.token).toMatch(/^fft_/);

    const device = await enrollDevice(testHub, { token: token.token, name: 'cli-pi' });
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId);
    await publishTelemetry(client, device.deviceId, { cpuPercent: 42 });
    await waitFor(() => testHub.hub.fleet.liveness.isOnline(device.deviceId));

    const listed = await fedfleet(['devices', 'ls', '--json', '--selector', 'site=lab'], env);
    expect(listed.code).toBe(0);
    const devices = JSON.parse(listed.stdout);
    expect(Array.isArray(devices)).toBe(true);
    expect(devices).toHaveLength(1);
    expect(devices[0]).toEqual(expect.objectContaining({ id: device.deviceId, name: 'cli-pi', labels: { site: 'lab', tier: 'x' }, status: 'online', lastSeen: expect.any(String) }));
    expect(devices[0]).toHaveProperty('telemetry');
  });

  it('reads the admin token from <data-dir>/admin.token and prints errors as "error <CODE>: message"', async () => {
    const dataDir = tempDataDir();
    const testHub = await startTestHub({ dataDir, config: { adminToken: undefined } });
    const ok = await fedfleet(['fleet', 'health', '--json', '--hub', testHub.httpUrl, '--data-dir', dataDir]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      total: 0, byStatus: { online: 0, offline: 0 }, byLabel: {}, health: { healthy: 0, degraded: 0, offline: 0 }, openAlerts: { total: 0 }, byVersion: [],
    });

    const wrong = await fedfleet(['devices', 'ls', '--hub', testHub.httpUrl, '--token', 'nope']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr.trim()).toBe('error HUB_ERR_UNAUTHORIZED: missing or wrong admin token');
  });

  it('runs `fedfleet hub`, which prints its addresses and closes on SIGTERM', async () => {
    const dataDir = tempDataDir();
    const child = spawn(process.execPath, [BIN, 'hub', '--data-dir', dataDir, '--http-port', '0', '--mqtt-port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The banner arrives in several writes: wait for its last line before reading the others.
    await waitFor(() => stderr.includes('admin token'), 20_000, 'the hub to start');
    const httpUrl = /HTTP API\s+(http:\/\/\S+)/.exec(stderr)?.[1];
    expect(stderr).toMatch(/MQTT broker\s+mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).toContain(`admin token  ${dataDir}/admin.token (new)`);
    expect(((await (await fetch(`${httpUrl}/healthz`)).json()) as { ok: boolean }).ok).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('SIGTERM: closing the hub');
  });

  it('ends quietly when the reader of its output goes away (`fedfleet … | head -1`)', async () => {
    const child = spawn(process.execPath, [BIN, 'fleet', '--help'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    // Close the read end before the CLI has written anything: its first write meets a broken pipe (EPIPE).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });

  it('reports every configuration problem of `fedfleet hub` at once', async () => {
    const result = await fedfleet(['hub', '--http-port', 'eighty', '--heartbeat-sec', '0', '--data-dir', tempDataDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error HUB_ERR_CONFIG_INVALID: invalid configuration, 2 problem/);
    expect(result.stderr).toMatch(/httpPort \(flag --http-port\)/);
    expect(result.stderr).toMatch(/heartbeatSec \(flag --heartbeat-sec\)/);
  });
});

describe('fedfleet CLI (in process)', () => {
  it('lists, shows, labels and revokes devices in readable tables', async () => {
    const testHub = await startTestHub();
    const env = { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
    const device = await enrollDevice(testHub, { name: 'bench-1', tokenLabels: { site: 'lab' } });

    const ls = await runMain(['devices', 'ls'], env);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^ID\s+NAME\s+STATUS\s+LAST SEEN/);
    expect(ls.stdout).toContain('bench-1');
    expect(ls.stdout).toContain('never');

    const show = await runMain(['devices', 'show', device.deviceId], env);
    expect(show.stdout).toMatch(/name\s+bench-1/);

    const label = await runMain(['devices', 'label', device.deviceId, 'tier=gold', 'site-'], env);
    expect(label.code).toBe(0);
    expect(label.stdout.trim()).toBe(`${device.deviceId}  tier=gold`);

    const badLabel = await runMain(['devices', 'label', device.deviceId, 'oops'], env);
    expect(badLabel.code).toBe(2);
    expect(badLabel.stderr).toMatch(/^error HUB_ERR_CLI_USAGE: invalid label change "oops"/);

    const health = await runMain(['fleet', 'health'], env);
    expect(health.stdout).toMatch(/^1 device: 0 online, 1 offline/);
    expect(health.stdout).toMatch(/tier=gold\s+0\s+1/);

    const revoke = await runMain(['devices', 'revoke', device.deviceId], env);
    expect(revoke.code).toBe(0);
    const gone = await runMain(['devices', 'show', device.deviceId], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error HUB_ERR_DEVICE_NOT_FOUND/);

    const tokens = await runMain(['tokens', 'ls', '--json'], env);
    expect(JSON.parse(tokens.stdout)).toEqual([expect.objectContaining({ uses: 1, maxUses: 1 })]);
  });

  it('reports an unreachable hub and a missing admin token', async () => {
    const unreachable = await runMain(['devices', 'ls', '--hub', 'http://127.0.0.1:9', '--token', 'x']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^error HUB_ERR_HUB_UNREACHABLE: cannot reach the hub at http:\/\/127\.0\.0\.1:9/);
    const noToken = await runMain(['devices', 'ls', '--data-dir', tempDataDir()]);
    expect(noToken.stderr).toMatch(/^error HUB_ERR_NO_ADMIN_TOKEN/);
  });

  it('rejects unknown commands and options with usage errors (exit 2)', async () => {
    expect((await runMain(['frobnicate'])).stderr).toMatch(/^error HUB_ERR_CLI_USAGE: unknown command "frobnicate"/);
    const badOption = await runMain(['devices', 'ls', '--colour']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/^error HUB_ERR_CLI_USAGE: .*--colour/);
    expect((await runMain(['tokens', 'create', '--ttl', 'soon', '--token', 'x'])).stderr).toMatch(/invalid duration "soon"/);
    expect((await runMain(['--help'])).stdout).toMatch(/^Usage: fedfleet <command>/);
  });
});

describe('CLI helpers', () => {
  it('parses durations', () => {
    expect(parseDurationSec('24h')).toBe(86_400);
    expect(parseDurationSec('30m')).toBe(1800);
    expect(parseDurationSec('7d')).toBe(604_800);
    expect(parseDurationSec('90')).toBe(90);
    expect(() => parseDurationSec('1w')).toThrow();
  });

  it('aligns tables, numbers to the right', () => {
    expect(formatTable(['NAME', 'N'], [['a', 1], ['bbb', 100]])).toBe('NAME    N\na       1\nbbb   100');
  });

  it('draws a bar on a terminal and plain lines otherwise', () => {
    let text = '';
    const stream = { write: (chunk: string) => ((text += chunk), true), isTTY: false } as never;
    const plain = createProgress({ total: 100, label: 'upload', stream });
    for (let i = 0; i <= 100; i += 5) plain.update(i);
    plain.finish('done');
    expect(text.split('\n').filter(Boolean)).toEqual([
      'upload: 0% (0/100)', 'upload: 10% (10/100)', 'upload: 20% (20/100)', 'upload: 30% (30/100)', 'upload: 40% (40/100)',
      'upload: 50% (50/100)', 'upload: 60% (60/100)', 'upload: 70% (70/100)', 'upload: 80% (80/100)', 'upload: 90% (90/100)',
      'upload: 100% (100/100)', 'upload: done',
    ]);
    text = '';
    let nowMs = 0;
    const tty = createProgress({ total: 10, label: 'train', stream: { write: (chunk: string) => ((text += chunk), true), isTTY: true, columns: 60 } as never, now: () => nowMs });
    tty.update(5);
    nowMs += 1000;
    tty.update(10);
    tty.finish();
    expect(text).toContain('\rtrain [');
    expect(text).toContain('100% 10/10');
    expect(text.endsWith('\n')).toBe(true);
  });
});
