/**
 * Reads answer nothing older than a tier's retention, whether or not its block is pruned yet: a block is deleted only
 * once its newest row is past the retention, so until then it holds older rows (up to its span) that must not show.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { enrollDevice } from '../helpers/devices.js';
import { startTestHub } from '../helpers/test-hub.js';

type Series = { resolution: string; points: Array<{ at: string; count?: number }> };
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

describe('telemetry retention at read', () => {
  it('does not answer an hour rollup one minute past its retention while its block is kept', async () => {
    const startMs = Date.UTC(2024, 0, 1);
    // The first sample is 1 min past the 2-day hour retention, the second is not (samples carry their own time).
    const clock = createManualClock(startMs + 2 * DAY_MS + 60_000);
    const testHub = await startTestHub({
      clock, listen: false, config: { telemetryRetentionHours: 1, telemetryMinuteRetentionDays: 1, telemetryHourRetentionDays: 2 },
    });
    const device = await enrollDevice(testHub);
    const ingest = testHub.hub.fleet.telemetry;
    // One sample in each of two hours: one hour-rollup block (it ends with the second hour) holds both.
    ingest.add({ deviceId: device.deviceId, atMs: startMs, telemetry: { cpuPercent: 10, charging: false, activeVersionId: '' } });
    ingest.add({ deviceId: device.deviceId, atMs: startMs + HOUR_MS, telemetry: { cpuPercent: 20, charging: false, activeVersionId: '' } });
    ingest.flush();
    ingest.prune(); // the block stays: its newest row is within the retention
    const count = testHub.hub.store.db.prepare('SELECT (SELECT COUNT(*) FROM telemetry_block WHERE tier = 2) + (SELECT COUNT(*) FROM telemetry_open_block WHERE tier = 2) AS n');
    expect((count.get() as { n: number }).n).toBe(1);

    const from = new Date(startMs - HOUR_MS).toISOString();
    const response = await testHub.api<Series>('GET', `/v1/devices/${device.deviceId}/telemetry?metric=cpuPercent&from=${from}&step=3600`);
    expect(response.body.resolution).toBe('hour');
    expect(response.body.points.map((p) => [p.at, p.count])).toEqual([[new Date(startMs + HOUR_MS).toISOString(), 1]]);
  });
});
