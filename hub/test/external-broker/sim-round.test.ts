/**
 * The simulated fleet (firmware-sim) against a hub in external-broker mode: the sims enroll over HTTP, are told
 * Mosquitto's URL, connect there with the credentials the hub provisioned, download the model in chunks (fetch →
 * chunk through the broker), train on their MNIST partitions and send updates; the round commits.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { SimFleet, simProfile } from '@fedfleet/firmware-sim';
import { createToken, waitFor } from '../helpers/devices.js';
import { startTestHub } from '../helpers/test-hub.js';
import { startCampaign, waitForCampaign, type Api } from '../rounds/round-helpers.js';
import { HUB_BROKER_PASSWORD, HUB_BROKER_USERNAME, startMosquitto } from './mosquitto.js';

describe('external broker: simulated devices', () => {
  it('sims enroll, connect to Mosquitto, fetch the model and complete a round', async () => {
    const mosquitto = await startMosquitto();
    const testHub = await startTestHub({ config: { broker: mosquitto.url, brokerUsername: HUB_BROKER_USERNAME, brokerPassword: HUB_BROKER_PASSWORD } });
    const api: Api = (method, url, body) => testHub.api(method, url, body);
    const { token } = await createToken(testHub, { maxUses: 2 });
    const fleet = new SimFleet({
      hubUrl: testHub.httpUrl, enrollmentToken: token, devices: 2, fleetSize: 2, profile: simProfile('rpi4'), data: 'mnist:iid', seed: 3,
      heartbeatSec: 30, labels: { site: 'lab' },
    });
    onTestFinished(() => fleet.stop());
    await fleet.start();
    await waitFor(async () => (await api<{ id: string }[]>('GET', '/v1/devices?status=online&selector=site%3Dlab')).body.length === 2, 10_000, 'sims online');

    const campaign = await startCampaign(api, {
      model: 'mnist-2nn', selector: 'site=lab', rounds: 1, clients: 2, overSelect: 1, minClients: 2, epochs: 1, batchSize: 20, maxExamples: 40,
      deadlineSec: 60, evaluate: false,
    });
    const done = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 60_000, 'the round');
    expect([done.state, done.error]).toEqual(['completed', null]);
    expect(done.rounds[0]!.updates).toBe(2);
    const metrics = (await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^fedfleet_mqtt_messages_sent_total\{kind="chunk"\} [1-9]/m);
  }, 90_000);
});
