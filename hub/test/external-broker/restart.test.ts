/**
 * Presence and resilience through an external broker: a device's last will ends its session at the hub; Mosquitto
 * killed mid-round (no goodbye to anyone, sessions and retained messages lost) and started again on the same port
 * with the same dynamic-security file: the hub reconnects by itself, the devices reconnect with the credentials the
 * broker kept, and the round completes.
 */
import { describe, expect, it } from 'vitest';
import { getCampaign, startCampaign, tinyDelta, waitFor, waitForCampaign } from '../rounds/round-helpers.js';
import { startExternalRoundHub } from './external-hub.js';

describe('external broker: presence and restarts', () => {
  it('ends a device\'s session on its last will and opens a new one when it returns', async () => {
    const { api, enroll, online, broker } = await startExternalRoundHub();
    const device = await enroll('d');
    await online([device.deviceId]);
    const first = broker.currentSession(device.deviceId);
    expect(first).toBeDefined();
    expect(broker.sessionCount()).toBe(1);

    device.drop(); // no DISCONNECT: Mosquitto publishes the will (Status OFFLINE, retained)
    await waitFor(async () => (await api<{ status: string }>('GET', `/v1/devices/${device.deviceId}`)).body.status === 'offline', 5000, 'offline');
    expect(broker.isConnected(device.deviceId)).toBe(false);
    expect(broker.sessionCount()).toBe(0);

    await device.connect();
    await online([device.deviceId]);
    expect(broker.currentSession(device.deviceId)).toBeGreaterThan(first!);
  });

  it('reconnects after Mosquitto is killed and restarted mid-round; the round completes', async () => {
    const { api, enroll, online, mosquitto, broker } = await startExternalRoundHub();
    const d1 = await enroll('d-1');
    const d2 = await enroll('d-2');
    await online([d1.deviceId, d2.deviceId]);
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 60, evaluate: false });
    const [t1, t2] = [await d1.trainTask(), await d2.trainTask()];
    await d1.sendUpdate(d1.update(t1, tinyDelta(0.1), 5));
    await waitFor(async () => (await getCampaign(api, campaign.id)).rounds[0]!.updates === 1, 5000, 'the first update');

    await mosquitto.restart();
    await waitFor(() => broker.brokerConnected(), 10_000, 'the hub to reconnect');
    await broker.synced();
    await d2.connect(); // its old connection died with the broker
    await d2.sendUpdate(d2.update(t2, tinyDelta(0.3), 5));

    const view = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 10_000, 'commit');
    expect(view.state).toBe('completed');
    expect(view.rounds[0]!.updates).toBe(2);
  });
});
