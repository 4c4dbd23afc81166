/**
 * `fedfleet alerts ls|ack` and `fedfleet fleet health [--watch]` against a real hub: a device that dropped off is
 * offline past the device-offline rule's 60 s (manual clock), a failed rollout is raised through the alerts service,
 * and the CLI lists, acknowledges and summarises them; the watch redraws when a device goes offline.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../src/clock.js';
import { createHubClient } from '../src/cli/hub-client.js';
import type { CliIo } from '../src/cli/io.js';
import { watchFleetHealth } from '../src/cli/fleet-health-watch.js';
import { runCli } from './helpers/cli.js';
import { connectDevice, enrollDevice, publishStatus, waitFor } from './helpers/devices.js';
import { scriptedHub } from './helpers/scripted-hub.js';
import { startTestHub, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

async function fleetWithAlerts() {
  const clock = createManualClock(Date.now());
  // Heartbeats an hour apart: the connected device stays online however far the test moves the clock.
  const testHub = await startTestHub({ clock, config: { heartbeatSec: 3600 } });
  const quiet = await enrollDevice(testHub, { name: 'quiet-1', tokenLabels: { site: 'lab' } });
  const busy = await enrollDevice(testHub, { name: 'busy-1', tokenLabels: { site: 'lab' } });
  const client = await connectDevice(testHub, busy);
  await publishStatus(client, busy.deviceId);
  const gone = await connectDevice(testHub, quiet);
  await publishStatus(gone, quiet.deviceId);
  await waitFor(() => testHub.hub.fleet.liveness.onlineCount() === 2);
  gone.stream.destroy(); // its will marks it offline
  await waitFor(() => !testHub.hub.fleet.liveness.isOnline(quiet.deviceId));
  clock.advance(61_000);
  await waitFor(() => testHub.hub.health.alerts.listOpen().length === 1, 5000, 'the device-offline alert');
  const rollout = testHub.hub.health.alerts.raise({
    rule: 'rollout-failed', subject: 'rollout:r-9', deviceId: null, severity: 'warning', message: 'wave 1: 2 of 3 failed', value: null, threshold: null,
  });
  const env = { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
  return { testHub, quiet, busy, client, rollout, env };
}

const rowOf = (stdout: string, text: string) => stdout.split('\n').find((line) => line.includes(text))?.split(/\s{2,}/);

describe('fedfleet alerts', () => {
  it('lists open alerts with the device name, filters by rule and device, and acknowledges them', async () => {
    const { quiet, rollout, env } = await fleetWithAlerts();
    const ls = await runCli(['alerts', 'ls'], { env });
    expect(ls.stderr).toBe('');
    expect(ls.stdout.split('\n')[0]).toMatch(/^ID\s+RULE\s+SEVERITY\s+SUBJECT\s+STATE\s+OPENED\s+ACK\s+MESSAGE$/);
    const offline = rowOf(ls.stdout, 'device-offline')!;
    expect(offline.slice(1, 7)).toEqual(['device-offline', 'critical', 'quiet-1', 'open', expect.stringMatching(/ago$/), '-']);
    expect(rowOf(ls.stdout, 'rollout-failed')!.slice(1, 8)).toEqual(['rollout-failed', 'warning', 'rollout:r-9', 'open', expect.any(String), '-', 'wave 1: 2 of 3 failed']);

    const byDevice = JSON.parse((await runCli(['alerts', 'ls', '--device', 'quiet-1', '--json'], { env })).stdout);
    expect(byDevice).toEqual([expect.objectContaining({ rule: 'device-offline', deviceId: quiet.deviceId, state: 'open' })]);
    const byRule = JSON.parse((await runCli(['alerts', 'ls', '--rule', 'rollout-failed', '--json'], { env })).stdout);
    expect(byRule.map((a: { id: string }) => a.id)).toEqual([rollout.id]);

    const ackDevice = await runCli(['alerts', 'ack', offline[0]!], { env });
    expect(ackDevice.stdout.trim()).toBe(`alert ${offline[0]} (device-offline on quiet-1) acknowledged by admin, still open until its condition clears`);
    const ackRollout = await runCli(['alerts', 'ack', rollout.id], { env });
    expect(ackRollout.stdout.trim()).toBe(`alert ${rollout.id} (rollout-failed on rollout:r-9) acknowledged by admin, resolved`);
    const after = await runCli(['alerts', 'ls'], { env });
    expect(rowOf(after.stdout, 'device-offline')![6]).toMatch(/^admin \d+s ago$/);
    expect(after.stdout).not.toContain('rollout-failed');
    expect((await runCli(['alerts', 'ls', '--state', 'resolved'], { env })).stdout).toContain('rollout-failed');
    expect((await runCli(['alerts', 'ls', '--state', 'all', '--json'], { env })).stdout).toContain('rollout-failed');

    const badRule = await runCli(['alerts', 'ls', '--rule', 'cpu'], { env });
    expect(badRule.code).toBe(2);
    expect(badRule.stderr).toMatch(/^error HUB_ERR_CLI_USAGE: --rule must be one of device-offline, cpu-pressure/);
    const missing = await runCli(['alerts', 'ack', 'nope'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error HUB_ERR_ALERT_NOT_FOUND/);
  });
});

describe('fedfleet fleet health', () => {
  it('prints devices by health, open alerts by rule, versions in service and health per label', async () => {
    const { env } = await fleetWithAlerts();
    const run = await runCli(['fleet', 'health'], { env });
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')).toEqual([
      '2 devices: 1 online, 1 offline',
      'health: 1 healthy, 0 degraded, 1 offline',
      'open alerts: 2 (device-offline 1, rollout-failed 1)',
      '',
      'VERSION  DEVICES  HEALTHY  DEGRADED  OFFLINE  ACCURACY',
      'none           2        1         0        1  -',
      '',
      'LABEL     ONLINE  OFFLINE  HEALTHY  DEGRADED',
      'site=lab       1        1        1         0',
      '',
    ]);
  });

  it('names versions in service by model and number, and reads the counts-only answer of an older hub', async () => {
    const current = {
      total: 3, byStatus: { online: 3, offline: 0 }, byLabel: {}, health: { healthy: 2, degraded: 1, offline: 0 },
      openAlerts: { total: 1, byRule: { 'cpu-pressure': 1, 'disk-low': 0 } },
      byVersion: [
        { modelId: 'm1', versionId: 'v3', version: 3, devices: 2, healthy: 1, degraded: 1, offline: 0, meanAccuracy: 0.91234 },
        { modelId: null, versionId: 'x9', version: null, devices: 1, healthy: 1, degraded: 0, offline: 0, meanAccuracy: null },
      ],
    };
    const older = { total: 1, byStatus: { online: 0, offline: 1 }, byLabel: { 'site=lab': { online: 0, offline: 1 } } };
    let answer: unknown = current;
    const hub = await scriptedHub(({ key }) =>
      key === 'GET /v1/fleet/health' ? { body: answer } : key === 'GET /v1/models' ? { body: [{ id: 'm1', name: 'digits' }] } : undefined);
    const env = { FEDFLEET_HUB: hub.url, FEDFLEET_ADMIN_TOKEN: 't' };
    expect((await runCli(['fleet', 'health'], { env })).stdout.split('\n')).toEqual([
      '3 devices: 3 online, 0 offline',
      'health: 2 healthy, 1 degraded, 0 offline',
      'open alerts: 1 (cpu-pressure 1)',
      '',
      'VERSION    DEVICES  HEALTHY  DEGRADED  OFFLINE  ACCURACY',
      'digits@v3        2        1         1        0  0.912',
      'x9               1        1         0        0  -',
      '',
    ]);
    answer = older;
    expect((await runCli(['fleet', 'health'], { env })).stdout.split('\n')).toEqual([
      '1 device: 0 online, 1 offline', '', 'LABEL     ONLINE  OFFLINE', 'site=lab       0        1', '',
    ]);
    expect(hub.requests.filter((r) => r === 'GET /v1/models')).toHaveLength(1); // only when a version names a model
  });

  it('--watch draws the summary, then again when a device goes offline, until interrupted', async () => {
    const { client, env } = await fleetWithAlerts();
    let stdout = '';
    const io: CliIo = { stdout: { write: (chunk: string) => ((stdout += chunk), true) } as never, stderr: process.stderr, env, cwd: process.cwd() };
    const stop = new AbortController();
    const watching = watchFleetHealth(createHubClient({}, io), io, { signal: stop.signal, debounceMs: 20 });
    await waitFor(() => stdout.includes('site=lab'), 5000, 'the first summary');
    expect(stdout.split('\n')[0]).toBe('2 devices: 1 online, 1 offline');
    client.stream.destroy(); // busy-1 drops off: its will marks it offline
    await waitFor(() => stdout.includes('2 devices: 0 online, 2 offline'), 5000, 'the redraw');
    expect(stdout).toMatch(/\n--- \d{4}-\d\d-\d\dT[\d:.]+Z\n2 devices: 0 online, 2 offline\nhealth: 0 healthy, 0 degraded, 2 offline\n/);
    stop.abort();
    expect(await watching).toBe(0);
  });
});
