/**
 * The broker connection flaps mid-round: every device's TCP connection is cut while it trains. The hub marks the
 * participants dropped, the agents reconnect (persistent sessions), the hub takes them back, and their updates count
 * once each. A device that stays away past the rejoin grace does not hold the round.
 */
import { describe, expect, it } from 'vitest';
import { startTcpProxy } from '../e2e/helpers/tcp-proxy.js';
import { FAST_TRAINING, gate, getCampaign, startAgents, startFlHub, startCampaign, waitFor, waitForCampaign } from './fl-harness.js';

async function hubBehindProxy() {
  const proxy = await startTcpProxy();
  const hub = await startFlHub({ config: { publicMqttUrl: proxy.mqttUrl } });
  proxy.setTarget(Number(new URL(hub.mqttUrl).port));
  return { hub, proxy };
}

describe('broker connection flapping mid-round', () => {
  it('devices cut off while training rejoin the round; every update counts once and the campaign completes', async () => {
    const { hub, proxy } = await hubBehindProxy();
    const release = gate();
    const agents = await startAgents(hub, Array.from({ length: 4 }, (_, i) => ({
      name: `pi-${i}`, data: { index: i, of: 4 }, beforeTrain: () => release.promise,
    })));
    const campaign = await startCampaign(hub.api, {
      model: 'digits', rounds: 2, clients: 4, overSelect: 1, minClients: 4, deadlineSec: 60, rejoinGraceSec: 30, seed: 3, ...FAST_TRAINING,
    });
    await waitForCampaign(hub.api, campaign.id, (c) => c.rounds[0]?.participants.filter((p) => p.state === 'training').length === 4, 15_000, 'all training');

    proxy.dropConnections();
    // The hub sees every participant go (offline → dropped); nobody is left to train, so only the grace keeps the round.
    const cut = await waitForCampaign(hub.api, campaign.id, (c) => c.rounds[0]!.participants.every((p) => p.state === 'dropped'), 10_000, 'all dropped');
    expect([cut.state, cut.rounds[0]!.state]).toEqual(['running', 'training']);
    // They come back on their own and are training again.
    await waitForCampaign(hub.api, campaign.id, (c) => c.rounds[0]!.participants.every((p) => p.state === 'training'), 15_000, 'all rejoined');
    expect(proxy.accepted).toBeGreaterThanOrEqual(8);

    release.open();
    const done = await waitForCampaign(hub.api, campaign.id, (c) => c.state !== 'running', 30_000, 'campaign end');
    expect([done.state, done.error]).toEqual(['completed', null]);
    for (const round of done.rounds) {
      expect(round.state).toBe('committed');
      expect(round.updates).toBe(4);
      expect(round.rejectedUpdates).toBe(0);
      expect(round.participants.map((p) => p.state)).toEqual(['updated', 'updated', 'updated', 'updated']);
      expect(round.participants.every((p) => typeof p.evalAccuracy === 'number')).toBe(true);
    }
    const exampleCounts = done.rounds[0]!.participants.map((p) => p.exampleCount);
    expect(exampleCounts.every((n) => n === FAST_TRAINING.maxExamples)).toBe(true);
    expect(agents.every((a) => a.agent.busy === false)).toBe(true);
  }, 60_000);

  it('devices that stay away past the rejoin grace: the round closes then, not at its deadline, and stays closed', async () => {
    const { hub, proxy } = await hubBehindProxy();
    const release = gate();
    await startAgents(hub, Array.from({ length: 3 }, (_, i) => ({
      name: `pi-${i}`, data: { index: i, of: 3 }, beforeTrain: () => release.promise,
    })));
    const campaign = await startCampaign(hub.api, {
      model: 'digits', rounds: 1, clients: 3, overSelect: 1, minClients: 1, deadlineSec: 60, rejoinGraceSec: 1, seed: 3, ...FAST_TRAINING,
    });
    await waitForCampaign(hub.api, campaign.id, (c) => c.rounds[0]?.participants.filter((p) => p.state === 'training').length === 3, 15_000, 'all training');
    proxy.refuse(true); // the network stays down
    proxy.dropConnections();
    const done = await waitForCampaign(hub.api, campaign.id, (c) => c.state !== 'running', 15_000, 'campaign end');
    expect([done.state, done.error]).toEqual(['failed', 'round 1: 0 valid updates, 1 needed']);
    expect(done.rounds[0]!.participants.map((p) => p.state)).toEqual(['dropped', 'dropped', 'dropped']);

    // The network comes back: the devices rejoin, the failed round stays failed, and their late work is refused.
    proxy.refuse(false);
    release.open();
    await waitFor(async () => (await hub.api<unknown[]>('GET', '/v1/devices?status=online')).body.length === 3, 15_000, 'devices back');
    const after = await getCampaign(hub.api, campaign.id);
    expect([after.state, after.rounds[0]!.state, after.rounds[0]!.updates]).toEqual(['failed', 'failed', 0]);
  }, 60_000);
});
