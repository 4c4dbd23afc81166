import { describe, expect, it } from 'vitest';
import { createManualClock } from '../src/clock.js';
import { connectDevice, enrollDevice, publishStatus, publishTelemetry, waitFor } from './helpers/devices.js';
import { startTestHub } from './helpers/test-hub.js';

describe('telemetry ingestion', () => {
  it('keeps the latest per device and raw samples for the retention window only', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock, config: { telemetryRetentionHours: 1 } });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId);
    const received: number[] = [];
    testHub.hub.events.on('telemetry', (event) => received.push(event.telemetry.cpuPercent ?? 0));

    await publishTelemetry(client, device.deviceId, { cpuPercent: 1 });
    await waitFor(() => received.length === 1);
    clock.advance(40 * 60_000);
    await publishTelemetry(client, device.deviceId, { cpuPercent: 2 });
    await waitFor(() => received.length === 2);

    const history = await testHub.api<Array<{ at: string; telemetry: { cpuPercent: number } }>>('GET', `/v1/devices/${device.deviceId}/telemetry`);
    expect(history.body.map((s) => s.telemetry.cpuPercent)).toEqual([1, 2]);

    clock.advance(30 * 60_000); // the first sample is now 70 minutes old; the pruner runs every 10 minutes
    const pruned = await testHub.api<Array<{ telemetry: { cpuPercent: number } }>>('GET', `/v1/devices/${device.deviceId}/telemetry`);
    expect(pruned.body.map((s) => s.telemetry.cpuPercent)).toEqual([2]);
    const latest = await testHub.api<{ telemetry: { cpuPercent: number } }>('GET', `/v1/devices/${device.deviceId}`);
    expect(latest.body.telemetry.cpuPercent).toBe(2);
  });

  it('queues samples and writes them in batches; latest keeps the newest sample', async () => {
    const testHub = await startTestHub({ listen: false });
    const device = await enrollDevice(testHub);
    const ingest = testHub.hub.fleet.telemetry;
    const count = () => (testHub.hub.store.db.prepare('SELECT COUNT(*) AS n FROM telemetry_raw').get() as { n: number }).n;
    const sample = (atMs: number, cpuPercent: number) => ({ deviceId: device.deviceId, atMs, telemetry: { cpuPercent, charging: false, activeVersionId: '' } });
    for (let i = 0; i < 10; i++) ingest.add(sample(1000 + i, i));
    expect(count()).toBe(0); // queued, not yet written
    ingest.add(sample(500, 99)); // late arrival, older than the others
    expect(ingest.flush()).toBe(11);
    expect(count()).toBe(11);
    expect(ingest.latest(device.deviceId)?.telemetry.cpuPercent).toBe(9);
  });
});
