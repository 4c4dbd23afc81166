/**
 * Acceptance: devices that cannot hold the model are not selected; a device that refuses its task is recorded with
 * its reason and the round goes on; an operator's cancel fails the current round and tells the devices to stop.
 */
import { describe, expect, it } from 'vitest';
import { ResultCode, type CommandProps } from '@fedfleet/proto';
import { participantOf } from '../../hub/test/rounds/round-helpers.js';
import { BOARD, FAST_TRAINING, gate, getCampaign, startAgents, startCampaign, startFlHub, waitFor, waitForCampaign } from './fl-harness.js';

interface Version { version: number }

describe('selection and refusal', () => {
  it('skips a device whose RAM cannot hold the model; a device without data refuses and the round commits with the others', async () => {
    const hub = await startFlHub();
    const agents = await startAgents(hub, [
      { name: 'pi-0', data: { index: 0, of: 3 } },
      { name: 'pi-1', data: { index: 1, of: 3 } },
      { name: 'pi-2', data: { index: 2, of: 3 } },
      // mnist-2nn: 199,210 parameters × 32 bytes ≈ 6.4 MB to train; this board has 1 MiB.
      { name: 'tiny-ram', data: { index: 0, of: 3 }, profile: { ...BOARD, kind: 'mcu', ramBytes: 1024 * 1024 } },
      { name: 'no-data' },
    ]);
    const id = (name: string) => agents.find((a) => a.name === name)!.deviceId;
    const commandsOf = (name: string) => {
      const seen: string[] = [];
      agents.find((a) => a.name === name)!.agent.on('command', ({ kind }) => seen.push(String(kind)));
      return seen;
    };
    const tinyCommands = commandsOf('tiny-ram');

    // 4 eligible (tiny-ram is not); ⌈3 × 1.34⌉ = 5 capped at 4, so no-data is selected and refuses.
    const campaign = await startCampaign(hub.api, {
      model: 'digits', rounds: 1, clients: 3, overSelect: 1.34, minClients: 3, deadlineSec: 30, seed: 9, ...FAST_TRAINING,
    });
    const done = await waitForCampaign(hub.api, campaign.id, (c) => c.state !== 'running', 20_000, 'campaign end');
    expect(done.state).toBe('completed');
    const round = done.rounds[0]!;
    expect(round.state).toBe('committed');
    expect(round.targetClients).toBe(3);
    expect(round.participants.map((p) => p.deviceId).sort()).toEqual(['pi-0', 'pi-1', 'pi-2', 'no-data'].map(id).sort());
    expect(participantOf(done, 1, id('tiny-ram'))).toBeUndefined();
    expect(tinyCommands).toEqual([]);
    const refused = participantOf(done, 1, id('no-data'))!;
    expect(refused.state).toBe('refused');
    expect(refused.reason).toMatch(/^AGENT_ERR_NO_DATA\b/);
    for (const name of ['pi-0', 'pi-1', 'pi-2']) expect(participantOf(done, 1, id(name))!.state).toBe('updated');
    expect(round.updates).toBe(3);
    expect(round.accuracy).not.toBeNull();
    const versions = (await hub.api<Version[]>('GET', `/v1/models/${hub.modelId}/versions`)).body;
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
  });
});

describe('cancel', () => {
  it('fails the current round, marks the campaign cancelled and sends Cancel to the devices', async () => {
    const hub = await startFlHub();
    const hold = gate();
    const aborted: string[] = [];
    const agents = await startAgents(hub, [0, 1, 2].map((i) => ({
      name: `pi-${i}`, data: { index: i, of: 3 },
      beforeTrain: async (ctx) => {
        // Holds the task until the hub cancels it (the agent aborts the command's signal on Cancel).
        await Promise.race([hold.promise, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))]);
        if (ctx.signal.aborted) aborted.push(ctx.deviceId);
      },
    })));
    const received = new Map<string, CommandProps[]>();
    const results: { deviceId: string; code: number; errorCode: string }[] = [];
    for (const a of agents) {
      received.set(a.deviceId, []);
      a.agent.on('command', ({ commandId, kind }) => received.get(a.deviceId)!.push({ commandId, ...(kind === 'cancel' ? { cancel: {} } : {}) }));
      a.agent.on('result', (r) => results.push({ deviceId: a.deviceId, code: r.code ?? 0, errorCode: r.errorCode ?? '' }));
    }

    const campaign = await startCampaign(hub.api, {
      model: 'digits', rounds: 3, clients: 3, overSelect: 1, minClients: 3, deadlineSec: 30, ...FAST_TRAINING,
    });
    await waitForCampaign(hub.api, campaign.id, (c) => c.rounds[0]?.participants.filter((p) => p.state === 'training').length === 3, 5000, 'training');

    const response = await hub.api<{ state: string; error: string; rounds: { state: string; error: string }[] }>('POST', `/v1/rounds/${campaign.id}/cancel`);
    expect(response.status).toBe(200);
    expect(response.body.state).toBe('cancelled');
    expect(response.body.error).toBe('cancelled by operator');
    expect(response.body.rounds.map((r) => [r.state, r.error])).toEqual([['failed', 'cancelled by operator']]);

    // Every device got a Cancel for its train command and stopped training.
    await waitFor(() => aborted.length === 3, 5000, 'devices cancelled');
    expect(new Set(aborted)).toEqual(new Set(agents.map((a) => a.deviceId)));
    const view = await getCampaign(hub.api, campaign.id);
    for (const a of agents) expect(participantOf(view, 1, a.deviceId)).toMatchObject({ state: 'cancelled', reason: 'cancelled by operator' });
    for (const a of agents) expect(received.get(a.deviceId)!.filter((c) => c.cancel)).toHaveLength(1);

    // The devices answer their train commands with CANCELLED; nothing more happens: no next round, no version; a
    // second cancel is refused; the devices are free for the next campaign.
    await waitFor(() => results.filter((r) => r.code === ResultCode.RESULT_CODE_CANCELLED).length === 3, 5000, 'CANCELLED results');
    expect(results.filter((r) => r.code === ResultCode.RESULT_CODE_CANCELLED).map((r) => r.errorCode)).toEqual(Array(3).fill('AGENT_ERR_CANCELLED'));
    hold.open();
    const after = await getCampaign(hub.api, campaign.id);
    expect(after.state).toBe('cancelled');
    expect(after.rounds).toHaveLength(1);
    expect(after.roundsDone).toBe(0);
    expect((await hub.api<Version[]>('GET', `/v1/models/${hub.modelId}/versions`)).body).toHaveLength(1);
    const again = await hub.api<{ error: { code: string } }>('POST', `/v1/rounds/${campaign.id}/cancel`);
    expect([again.status, again.body.error.code]).toEqual([409, 'HUB_ERR_CAMPAIGN_FINISHED']);
    const unknown = await hub.api<{ error: { code: string } }>('POST', '/v1/rounds/no-such-campaign/cancel');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'HUB_ERR_CAMPAIGN_NOT_FOUND']);

    const next = await startCampaign(hub.api, { model: 'digits', rounds: 1, clients: 3, overSelect: 1, minClients: 3, deadlineSec: 30, ...FAST_TRAINING });
    const nextDone = await waitForCampaign(hub.api, next.id, (c) => c.state !== 'running', 20_000, 'next campaign');
    expect([nextDone.state, nextDone.error, nextDone.rounds[0]!.participants.map((p) => p.reason)]).toEqual(['completed', null, [null, null, null]]);
  });
});
