/**
 * Selection asks fleet liveness (`hub.fleet.presence`) whether a device is online — the hub's own live view — not
 * the stored `status` column, which another process on the same data directory may have rewritten, nor the broker.
 */
import { describe, expect, it } from 'vitest';
import { DeviceState } from '@fedfleet/proto';
import { startCampaign, startRoundHub, waitFor, waitForCampaign } from './round-helpers.js';

describe('selection and liveness', () => {
  it('selects devices liveness sees online even when the stored status says offline, and not a connected device that said goodbye', async () => {
    const { api, enroll, online, testHub } = await startRoundHub();
    const devices = await Promise.all(['a', 'b', 'c'].map((name) => enroll(name)));
    await online(devices.map((d) => d.deviceId));
    // c stays connected but reports itself offline (a graceful goodbye): liveness says offline, the broker connected.
    const c = devices[2]!;
    await c.publish('status', { status: { state: DeviceState.DEVICE_STATE_OFFLINE, reason: 'maintenance' } }, { retain: true });
    await waitFor(() => !testHub.hub.fleet.liveness.isOnline(c.deviceId), 5000, 'c offline');
    expect(testHub.hub.broker.isConnected(c.deviceId)).toBe(true);
    // What a second process on the same data directory once did: every stored status set to offline.
    testHub.hub.store.db.prepare(`UPDATE devices SET status = 'offline'`).run();

    const campaign = await startCampaign(api, { model: 'tiny', clients: 3, overSelect: 1, minClients: 2, deadlineSec: 30, evaluate: false, selectionTimeoutSec: 3600 });
    const view = await waitForCampaign(api, campaign.id, (x) => x.rounds[0]?.state === 'training', 5000, 'training');
    expect(view.rounds[0]!.participants.map((p) => p.deviceName).sort()).toEqual(['a', 'b']);
  });
});
