/**
 * `fedfleet devices telemetry`: a real hub receives a device's telemetry over MQTT (a manual clock stamps each
 * sample 5 minutes after the last, ending just before now); the CLI finds the device by name or id, asks the history
 * API for the range and draws it.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../src/clock.js';
import { runCli } from './helpers/cli.js';
import { connectDevice, enrollDevice, publishStatus, publishTelemetry, waitFor } from './helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

const GiB = 1024 ** 3;
/** CPU %, and free memory of 4 GiB: used % is 25, 50, 75, 100 … as free shrinks. */
const SAMPLES = [10, 30, 50, 70, 90, 70, 50, 30, 10, 40].map((cpuPercent, i) => ({
  cpuPercent,
  temperatureC: 40 + i,
  memTotalBytes: 4 * GiB,
  memFreeBytes: ((i % 4) * GiB),
}));

async function hubWithHistory() {
  const nowMs = Date.now();
  // Samples at now − 50 min, −45 min, … −5 min: inside `--since 1h` by the CLI's own (real) clock.
  const clock = createManualClock(nowMs - 50 * 60_000);
  const testHub = await startTestHub({ clock });
  const device = await enrollDevice(testHub, { name: 'sensor-7' });
  const client = await connectDevice(testHub, device);
  await publishStatus(client, device.deviceId);
  let received = 0;
  testHub.hub.events.on('telemetry', () => received++);
  for (const [i, telemetry] of SAMPLES.entries()) {
    await publishTelemetry(client, device.deviceId, telemetry);
    await waitFor(() => received === i + 1);
    clock.advance(5 * 60_000);
  }
  const env = { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
  return { testHub, device, env };
}

/** The plot rows of a chart (between the header and the x axis). */
const plotRows = (stdout: string) => stdout.split('\n').filter((line) => /[┤│]/.test(line));

describe('fedfleet devices telemetry', () => {
  it('draws a metric by device name, with min and max on the y axis and one bar per sample', async () => {
    const { device, env } = await hubWithHistory();
    const run = await runCli(['devices', 'telemetry', 'sensor-7', '--metric', 'cpu', '--since', '1h'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`sensor-7 (${device.deviceId}) cpuPercent, last 1h: 10 points (minute rollups, mean per 1m)`);
    const rows = plotRows(run.stdout);
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatch(/^90% ┤/);
    expect(rows[7]).toMatch(/^10% ┤/);
    // Every sample is a column with a bar on the bottom row; the highest fills the top row.
    expect([...rows[7]!.slice(rows[7]!.indexOf('┤') + 1)].filter((c) => c !== ' ')).toHaveLength(10);
    expect([...rows[0]!.slice(rows[0]!.indexOf('┤') + 1)].filter((c) => c !== ' ')).toEqual(['█']);
    expect(lines.at(-2)).toMatch(/^times UTC; latest 40% at /);
  });

  it('derives memory used % (mem), prints the series as JSON, and names what it refuses', async () => {
    const { device, env } = await hubWithHistory();
    const json = await runCli(['devices', 'telemetry', device.deviceId, '--metric', 'mem', '--since', '30m', '--json'], { env });
    expect(json.code).toBe(0);
    const series = JSON.parse(json.stdout);
    expect(series).toMatchObject({ deviceId: device.deviceId, metric: 'memUsedPercent', resolution: 'raw' });
    // The last 30 minutes hold samples 5…9 (free 1, 2, 3, 0, 1 GiB of 4).
    expect(series.points.map((p: { value: number }) => p.value)).toEqual([75, 50, 25, 100, 75]);

    const temp = await runCli(['devices', 'telemetry', device.deviceId, '--metric', 'temp', '--json'], { env });
    expect(JSON.parse(temp.stdout).points.map((p: { mean: number }) => p.mean)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);

    const unknown = await runCli(['devices', 'telemetry', device.deviceId, '--metric', 'fan'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error HUB_ERR_CLI_USAGE: unknown metric "fan": use cpu \(cpuPercent\), temp \(temperatureC\)/);
    const missing = await runCli(['devices', 'telemetry', 'nobody'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('error HUB_ERR_DEVICE_NOT_FOUND: no device with id or name "nobody"');
    const misplaced = await runCli(['devices', 'ls', '--since', '1h'], { env });
    expect(misplaced.stderr.trim()).toBe('error HUB_ERR_CLI_USAGE: --since goes with devices telemetry, not devices ls');
    const empty = await runCli(['devices', 'telemetry', device.deviceId, '--metric', 'battery'], { env });
    expect(empty.stdout.split('\n')[1]).toBe('no samples in this range');
  });
});
