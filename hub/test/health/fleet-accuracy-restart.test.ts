/**
 * `GET /v1/fleet/health`'s `byVersion.meanAccuracy` after a hub restart: it starts from the accuracy samples the
 * quality capability stored, not from nothing until devices report again.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { connectDevice, enrollDevice, publishStatus, waitFor } from '../helpers/devices.js';
import { tempDataDir } from '../helpers/test-hub.js';
import { startHealthHub } from './health-helpers.js';

interface VersionHealth { versionId: string | null; devices: number; meanAccuracy: number | null }

describe('fleet health across a hub restart', () => {
  it('keeps each serving version\'s mean accuracy from the stored samples', async () => {
    const dataDir = tempDataDir();
    const clock = createManualClock();
    const first = await startHealthHub({ dataDir, clock });
    const devices = [await enrollDevice(first, { name: 'a' }), await enrollDevice(first, { name: 'b' })];
    for (const d of devices) {
      const client = await connectDevice(first, d);
      await publishStatus(client, d.deviceId, { activeModelId: 'm-1', activeVersionId: 'v-7' });
      await client.endAsync();
    }
    await waitFor(() => devices.every((d) => first.hub.fleet.devices.get(d.deviceId)?.activeVersionId === 'v-7'), 5000, 'serving v-7');
    const record = (deviceId: string, accuracy: number, atMs: number) =>
      first.hub.quality.record({ deviceId, versionId: 'v-7', source: 'federated-eval', ref: `round:${deviceId}:${atMs}`, accuracy, examples: 100, atMs });
    record(devices[0]!.deviceId, 0.5, clock.now());
    record(devices[0]!.deviceId, 0.8, clock.now() + 1); // the newest sample of a device is what counts
    record(devices[1]!.deviceId, 0.6, clock.now());
    const meanOf = async (hub: typeof first) =>
      (await hub.api<{ byVersion: VersionHealth[] }>('GET', '/v1/fleet/health')).body.byVersion.find((v) => v.versionId === 'v-7')?.meanAccuracy;
    expect(await meanOf(first)).toBeCloseTo(0.7, 9);
    await first.hub.close();

    const second = await startHealthHub({ dataDir, clock });
    expect(await meanOf(second)).toBeCloseTo(0.7, 9);
  });
});
