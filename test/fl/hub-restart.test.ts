/**
 * Acceptance: the hub is SIGKILLed while a round is training, after it acknowledged one update, and started again
 * on the same data directory and ports. The round resumes; the acknowledged update is neither lost nor counted
 * twice (a replay after the restart is a duplicate); agents reconnect on their own and finish; the campaign
 * commits exactly one version per round.
 */
import { describe, expect, it } from 'vitest';
import { decodeModelBlob, type ModelWeights } from '@fedfleet/proto';
import { RawDevice, createToken, participantOf } from '../../hub/test/rounds/round-helpers.js';
import { FAST_TRAINING, gate, getCampaign, startAgents, startCampaign, waitFor, waitForCampaign } from './fl-harness.js';
import { HubChild } from './hub-child.js';

interface Version { id: string; version: number; roundId: string | null; parentVersionId: string | null }

/** A delta shaped like `weights`, every value `value`. */
function constantDelta(weights: ModelWeights, value: number): ModelWeights {
  return weights.map((w) => ({ name: w.name, shape: [...w.shape], data: new Float32Array(w.data.length).fill(value) }));
}

describe('hub killed mid-round', () => {
  it('resumes the round after a restart: the acknowledged update counts once, agents finish, one version per round', async () => {
    const hub = await HubChild.create();
    await hub.start();
    const created = await hub.api<{ model: { id: string } }>('POST', '/v1/models', { name: 'digits', architecture: 'mnist-2nn', seed: 3 });
    expect(created.status).toBe(201);
    const modelId = created.body.model.id;
    const base = decodeModelBlob(await hub.httpGet(`/v1/models/${modelId}/versions/1/artifact`)).weights;

    // Two real agents that accept their round-1 task and then wait; one raw device that answers at once.
    const hold = gate();
    const agents = await startAgents(hub, [0, 1].map((i) => ({
      name: `pi-${i}`, data: { index: i, of: 2 }, beforeTrain: () => hold.promise,
    })));
    const raw = await RawDevice.enroll(hub.api, hub.mqttUrl, { name: 'raw', token: await createToken(hub.api) });
    await raw.connect();
    await waitFor(async () => (await hub.api<unknown[]>('GET', '/v1/devices?status=online')).body.length === 3, 5000, 'devices online');

    const campaign = await startCampaign(hub.api, {
      model: 'digits', rounds: 2, clients: 3, overSelect: 1, minClients: 3, deadlineSec: 60, evaluate: false, ...FAST_TRAINING,
    });
    const task1 = await raw.trainTask();
    const rawDelta = constantDelta(base, 0.001);
    const acknowledged = raw.update(task1, rawDelta, 50);
    const sent = await raw.sendUpdate(acknowledged, { msgId: 'raw-round-1' }); // resolves on PUBACK: stored
    await waitForCampaign(hub.api, campaign.id, (c) => agents.every((a) => participantOf(c, 1, a.deviceId)?.state === 'training'), 5000, 'agents training');
    let view = await getCampaign(hub.api, campaign.id);
    expect(participantOf(view, 1, raw.deviceId)).toMatchObject({ state: 'updated', exampleCount: 50 });

    await hub.kill();
    await raw.close();
    await hub.start();

    // The restarted hub still has the round in training, with the acknowledged update.
    view = await getCampaign(hub.api, campaign.id);
    expect(view.state).toBe('running');
    expect(view.rounds).toHaveLength(1);
    expect(view.rounds[0]!.state).toBe('training');
    expect(participantOf(view, 1, raw.deviceId)).toMatchObject({ state: 'updated', exampleCount: 50 });

    // The raw device comes back and replays its update: the very same message (its msgId is no longer in the
    // hub's memory), and the same update under a new msgId. Both are duplicates.
    await raw.connect();
    await raw.publishBytes('update', sent);
    await raw.sendUpdate(acknowledged);
    view = await getCampaign(hub.api, campaign.id);
    expect(view.rounds[0]!.rejections).toEqual([{ deviceId: raw.deviceId, code: 'HUB_ERR_UPDATE_DUPLICATE', count: 2 }]);
    expect(view.rounds[0]!.updates).toBe(1);

    // The agents reconnected on their own (backoff); they train now and the campaign goes on.
    await waitFor(async () => {
      const online = (await hub.api<{ id: string }[]>('GET', '/v1/devices?status=online')).body;
      return agents.every((a) => online.some((d) => d.id === a.deviceId));
    }, 10_000, 'agents back online');
    hold.open();
    await waitForCampaign(hub.api, campaign.id, (c) => c.rounds.length === 2 && c.rounds[0]!.state === 'committed', 20_000, 'round 1 committed');
    const round2Task = await waitFor(() => raw.commands.find((c) => c.train?.roundNumber === 2), 5000, 'round 2 task');
    const t2 = await raw.trainTask(round2Task.train!.roundId!);
    await raw.sendUpdate(raw.update(t2, constantDelta(base, -0.001), 40));
    const done = await waitForCampaign(hub.api, campaign.id, (c) => c.state !== 'running', 20_000, 'campaign end');

    expect(done.state).toBe('completed');
    expect(done.rounds.map((r) => r.state)).toEqual(['committed', 'committed']);
    const round1 = done.rounds[0]!;
    expect(round1.updates).toBe(3);
    expect(participantOf(done, 1, raw.deviceId)).toMatchObject({ state: 'updated', exampleCount: 50 });
    for (const a of agents) expect(participantOf(done, 1, a.deviceId)).toMatchObject({ state: 'updated', exampleCount: FAST_TRAINING.maxExamples });
    expect(round1.rejectedUpdates).toBe(2);
    expect(done.rounds[1]!.rejectedUpdates).toBe(0);

    const versions = (await hub.api<Version[]>('GET', `/v1/models/${modelId}/versions`)).body;
    expect(versions.map((v) => [v.version, v.roundId])).toEqual([[1, null], [2, round1.id], [3, done.rounds[1]!.id]]);
    expect(versions[2]!.parentVersionId).toBe(versions[1]!.id);
    expect(round1.resultVersionId).toBe(versions[1]!.id);
    expect(done.currentVersionId).toBe(versions[2]!.id);
  });
});
