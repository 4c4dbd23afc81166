/**
 * External-broker mode (DESIGN section 8) against a real Mosquitto with the dynamic-security plugin: devices enroll
 * over HTTP, are told the broker's URL, connect to Mosquitto with the credentials the hub provisioned there, and a
 * federated round completes through it — commands out through the broker, updates in through the hub's shared
 * subscription, the router's msgId de-duplication in place of the hub's own PUBACK.
 */
import { describe, expect, it } from 'vitest';
import { downloadWeights, fedAvg, getCampaign, startCampaign, tinyDelta, waitFor, waitForCampaign } from '../rounds/round-helpers.js';
import { startExternalRoundHub } from './external-hub.js';

describe('external broker: a federated round through Mosquitto', () => {
  it('enrolls devices into Mosquitto, hands out its URL, and completes a round; a redelivered update counts once', async () => {
    const { api, httpGet, model, enroll, online, mosquitto, testHub } = await startExternalRoundHub();
    expect(testHub.mqttUrl).toBe(mosquitto.url);
    const d1 = await enroll('d-1');
    const d2 = await enroll('d-2');
    expect(d1.creds.mqttUrl).toBe(mosquitto.url);
    await online([d1.deviceId, d2.deviceId]);

    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 30, evaluate: false });
    const [t1, t2] = [await d1.trainTask(), await d2.trainTask()];
    const delta1 = tinyDelta(0.5, 0.03);
    const delta2 = tinyDelta(-0.2, 0.01);
    const bytes = await d1.sendUpdate(d1.update(t1, delta1, 7), { msgId: 'update-of-d1' });
    await d1.publishBytes('update', bytes, { dup: true }); // Mosquitto acknowledged the first: only the hub can drop this
    await waitFor(async () => (await getCampaign(api, campaign.id)).rounds[0]!.updates === 1, 5000, 'the first update');

    await d2.sendUpdate(d2.update(t2, delta2, 3));
    const view = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 10_000, 'commit');
    expect(view.state).toBe('completed');
    expect(view.rounds[0]!.updates).toBe(2);
    expect(view.rounds[0]!.rejections).toEqual([]);
    const metrics = (await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^fedfleet_mqtt_duplicate_messages_total\{kind="update"\} 1$/m);

    const base = await downloadWeights(httpGet, model.modelId, 1);
    const committed = await downloadWeights(httpGet, model.modelId, 2);
    const expected = fedAvg(base, [{ n: 7, delta: delta1 }, { n: 3, delta: delta2 }]);
    committed.forEach((w, t) => w.data.forEach((v, i) => expect(v).toBeCloseTo(expected[t]![i]!, 6)));
  });
});
