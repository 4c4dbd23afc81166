/** Acceptance: devices that vanish mid-round are replaced by over-selection, or fail the round below minClients. */
import { describe, expect, it, onTestFinished } from 'vitest';
import { SimFleet, simProfile } from '@fedfleet/firmware-sim';
import { createToken } from '../../hub/test/rounds/round-helpers.js';
import { FAST_TRAINING, gate, getCampaign, startAgents, startCampaign, startFlHub, waitFor, waitForCampaign, type TestAgent } from './fl-harness.js';

interface Version { version: number; roundId: string | null }

describe('devices that vanish mid-round', () => {
  it('are replaced by over-selection: the round still commits with K updates', async () => {
    const hub = await startFlHub();
    const released = gate();
    const agents: TestAgent[] = [];
    const victimName = 'pi-0';
    agents.push(...await startAgents(hub, Array.from({ length: 5 }, (_, i) => ({
      name: `pi-${i}`,
      data: { index: i, of: 5 },
      beforeTrain: async (ctx) => {
        if (i === 0) {
          // Accepted the task, then the process dies: no update, no goodbye — the broker publishes the last will.
          agents.find((a) => a.name === victimName)!.agent.crash();
          await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
        }
        await released.promise; // the others train only once the hub has seen the victim go
      },
    }))));
    const victim = agents.find((a) => a.name === victimName)!;
    const campaign = await startCampaign(hub.api, {
      model: 'digits', rounds: 1, clients: 4, overSelect: 1.25, minClients: 4, deadlineSec: 30, seed: 5, ...FAST_TRAINING,
    });
    await waitForCampaign(hub.api, campaign.id, (c) => c.rounds[0]?.participants.find((p) => p.deviceId === victim.deviceId)?.state === 'dropped', 5000, 'victim dropped');
    released.open();

    const done = await waitForCampaign(hub.api, campaign.id, (c) => c.state !== 'running', 20_000, 'campaign end');
    expect(done.state).toBe('completed');
    const round = done.rounds[0]!;
    expect(round.state).toBe('committed');
    expect(round.participants).toHaveLength(5);
    expect(round.updates).toBe(4);
    const byDevice = new Map(round.participants.map((p) => [p.deviceId, p]));
    expect(byDevice.get(victim.deviceId)).toMatchObject({ state: 'dropped', reason: 'went offline during the round', exampleCount: null });
    for (const a of agents.filter((x) => x !== victim)) expect(byDevice.get(a.deviceId)!.state).toBe('updated');
    const versions = (await hub.api<Version[]>('GET', `/v1/models/${hub.modelId}/versions`)).body;
    expect(versions.map((v) => [v.version, v.roundId])).toEqual([[1, null], [2, round.id]]);
  });

  it('fail the round cleanly when fewer than minClients remain: no version, campaign failed', async () => {
    const hub = await startFlHub();
    const token = await createToken(hub.api, { maxUses: 4 });
    // Every simulated device dies right after accepting its task, and stays away longer than the round's rejoin grace.
    const fleet = new SimFleet({
      hubUrl: hub.httpUrl, enrollmentToken: token, devices: 4, profile: simProfile('rpi4'), data: 'mnist:iid', seed: 2,
      faults: { dropoutRate: 1, rejoinAfterMs: 2500 },
    });
    onTestFinished(() => fleet.stop());
    await fleet.start();
    const dropped = new Set<string>();
    fleet.on('dropout', ({ deviceId }) => dropped.add(deviceId));

    const campaign = await startCampaign(hub.api, {
      model: 'digits', rounds: 2, clients: 3, overSelect: 1.3, minClients: 2, deadlineSec: 30, rejoinGraceSec: 0.5, seed: 5, ...FAST_TRAINING,
    });
    const done = await waitForCampaign(hub.api, campaign.id, (c) => c.state !== 'running', 10_000, 'campaign end');
    expect(done.state).toBe('failed');
    expect(done.error).toBe('round 1: 0 valid updates, 2 needed');
    expect(done.roundsDone).toBe(0);
    expect(done.rounds).toHaveLength(1);
    const round = done.rounds[0]!;
    expect(round.state).toBe('failed');
    expect(round.error).toBe('0 valid updates, 2 needed');
    expect(round.resultVersionId).toBeNull();
    expect(round.participants).toHaveLength(4); // ⌈3 × 1.3⌉ = 4
    for (const p of round.participants) expect(['dropped', 'cancelled']).toContain(p.state);
    expect(round.participants.filter((p) => p.state === 'dropped').length).toBeGreaterThan(0);
    expect(dropped.size).toBe(4);
    const versions = (await hub.api<Version[]>('GET', `/v1/models/${hub.modelId}/versions`)).body;
    expect(versions.map((v) => v.version)).toEqual([1]);
    expect((await getCampaign(hub.api, campaign.id)).currentVersionId).toBe(hub.versionId);

    // The devices come back: nothing else happens to a failed campaign, and they are free for the next one.
    await waitFor(async () => (await hub.api<unknown[]>('GET', '/v1/devices?status=online')).body.length === 4, 5000, 'devices rejoined');
    const after = await getCampaign(hub.api, campaign.id);
    expect([after.state, after.rounds.length, after.rounds[0]!.state]).toEqual(['failed', 1, 'failed']);
  });
});
