/**
 * The round life cycle around its edges, with raw MQTT clients as devices: federated evaluation weighted by
 * example count, a cancel that lands while the round aggregates, and a hub restarted while a round evaluates.
 */
import { describe, expect, it } from 'vitest';
import { ResultCode } from '@fedfleet/proto';
import { startTestHub } from '../helpers/test-hub.js';
import {
  RawDevice, getCampaign, participantOf, startCampaign, startRoundHub, tinyDelta, waitFor, waitForCampaign, type Api, type TrainTaskSeen,
} from './round-helpers.js';

interface Version { id: string; version: number; roundId: string | null; metrics: Record<string, unknown> }

/** The eval command a device received for a round. */
async function evalTask(device: RawDevice, roundId: string): Promise<{ commandId: string; versionId: string }> {
  const command = await waitFor(() => device.commands.find((c) => c.eval?.roundId === roundId), 5000, `eval task for ${device.creds.name}`);
  return { commandId: command.commandId!, versionId: command.eval!.model!.versionId! };
}

async function sendEval(device: RawDevice, task: { commandId: string; versionId: string }, roundId: string, exampleCount: number, accuracy: number, loss: number) {
  await device.publish('reply', { evalResult: { roundId, commandId: task.commandId, versionId: task.versionId, exampleCount, accuracy, loss } });
}

describe('round life cycle', () => {
  it('weights federated evaluation by each device\'s examples and ignores refusals and nonsense results', async () => {
    const { api, model, enroll, online } = await startRoundHub();
    const devices = await Promise.all(['a', 'b', 'c', 'd'].map((n) => enroll(n)));
    await online(devices.map((d) => d.deviceId));
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 4, overSelect: 1, minClients: 4, deadlineSec: 30, evalTimeoutSec: 30 });
    const tasks = await Promise.all(devices.map((d) => d.trainTask()));
    for (const [i, d] of devices.entries()) await d.sendUpdate(d.update(tasks[i]!, tinyDelta(0.01 * (i + 1)), 10));
    const roundId = tasks[0]!.roundId;

    const evals = await Promise.all(devices.map((d) => evalTask(d, roundId)));
    const [a, b, c, d] = devices;
    const versions = (await api<Version[]>('GET', `/v1/models/${model.modelId}/versions`)).body;
    expect(evals[0]!.versionId).toBe(versions[1]!.id); // the new version is what gets evaluated
    expect((await getCampaign(api, campaign.id)).rounds[0]!.state).toBe('evaluating');

    await sendEval(a!, evals[0]!, roundId, 100, 0.9, 0.3);
    await sendEval(b!, evals[1]!, roundId, 300, 0.5, 1.1);
    await sendEval(c!, evals[2]!, roundId, 50, 1.7, 0.2); // accuracy above 1: not counted
    await d!.reply(evals[3]!.commandId, ResultCode.RESULT_CODE_REFUSED, { errorCode: 'AGENT_ERR_NO_DATA', reason: 'no local data' });

    const done = await waitForCampaign(api, campaign.id, (x) => x.state !== 'running', 5000, 'commit');
    expect(done.state).toBe('completed');
    const round = done.rounds[0]!;
    expect(round.accuracy).toBeCloseTo((100 * 0.9 + 300 * 0.5) / 400, 6);
    expect(round.loss).toBeCloseTo((100 * 0.3 + 300 * 1.1) / 400, 6);
    expect(participantOf(done, 1, a!.deviceId)).toMatchObject({ evalExamples: 100, evalAccuracy: expect.closeTo(0.9, 6) });
    expect(participantOf(done, 1, c!.deviceId)!.evalAccuracy).toBeNull();
    const committed = (await api<Version[]>('GET', `/v1/models/${model.modelId}/versions/2`)).body as unknown as Version;
    expect(committed.metrics).toMatchObject({ accuracy: round.accuracy, loss: round.loss, evalExamples: 400, evalDevices: 2, updates: 4, examples: 40 });
  });

  it('a device claiming a billion evaluation examples counts for no more than capFactor × the median claim', async () => {
    const { api, enroll, online } = await startRoundHub();
    const devices = await Promise.all(['a', 'b', 'c'].map((n) => enroll(n)));
    await online(devices.map((d) => d.deviceId));
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 3, overSelect: 1, minClients: 3, deadlineSec: 30, evalTimeoutSec: 30 });
    const tasks = await Promise.all(devices.map((d) => d.trainTask()));
    for (const [i, d] of devices.entries()) await d.sendUpdate(d.update(tasks[i]!, tinyDelta(0.01), 10));
    const roundId = tasks[0]!.roundId;
    const evals = await Promise.all(devices.map((d) => evalTask(d, roundId)));
    await sendEval(devices[0]!, evals[0]!, roundId, 100, 0.9, 0.2);
    await sendEval(devices[1]!, evals[1]!, roundId, 100, 0.8, 0.4);
    await sendEval(devices[2]!, evals[2]!, roundId, 1_000_000_000, 0.1, 3);

    const done = await waitForCampaign(api, campaign.id, (x) => x.state !== 'running', 5000, 'commit');
    const round = done.rounds[0]!;
    // Lower median 100, cap 3 × 100: the liar weighs 300, not 10⁹ (its claim alone would make the figure 0.1).
    expect(round.accuracy).toBeCloseTo((100 * 0.9 + 100 * 0.8 + 300 * 0.1) / 500, 6);
    expect(round.loss).toBeCloseTo((100 * 0.2 + 100 * 0.4 + 300 * 3) / 500, 6);
    expect(participantOf(done, 1, devices[2]!.deviceId)).toMatchObject({ evalExamples: 1_000_000_000 });
  });

  it('a cancel that lands while the round aggregates leaves it failed: no version, no evaluation, campaign not advanced', async () => {
    const { api, model, enroll, online, testHub } = await startRoundHub();
    const devices = [await enroll('a'), await enroll('b')];
    await online(devices.map((d) => d.deviceId));
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 2, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 30 });
    const tasks = await Promise.all(devices.map((d) => d.trainTask()));
    // The operator's cancel arrives at the moment the round starts aggregating (the state change is emitted first).
    const off = testHub.hub.events.on('round.state', ({ campaignId, state }) => {
      if (campaignId === campaign.id && state === 'aggregating') testHub.hub.coordinator.cancelCampaign(campaign.id);
    });
    await devices[0]!.sendUpdate(devices[0]!.update(tasks[0]!, tinyDelta(0.1), 5));
    await devices[1]!.sendUpdate(devices[1]!.update(tasks[1]!, tinyDelta(0.2), 5));
    off();

    const after = await waitForCampaign(api, campaign.id, (c) => c.rounds[0]!.state === 'failed', 2000, 'round failed');
    // Whatever aggregation had started must not resurrect the round.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const final = await getCampaign(api, campaign.id);
    expect(final.state).toBe('cancelled');
    expect(final.rounds.map((r) => [r.state, r.error, r.resultVersionId])).toEqual([['failed', 'cancelled by operator', null]]);
    expect(final.roundsDone).toBe(0);
    expect(final.currentVersionId).toBe(model.versionId);
    expect(after.rounds[0]!.updates).toBe(2);
    expect((await api<Version[]>('GET', `/v1/models/${model.modelId}/versions`)).body.map((v) => v.version)).toEqual([1]);
    for (const d of devices) expect(d.commands.filter((c) => c.eval)).toEqual([]);
  });

  it('resumes a round that was evaluating when the hub stopped, and commits it once', async () => {
    const first = await startRoundHub();
    const devices = [await first.enroll('a'), await first.enroll('b')];
    await first.online(devices.map((d) => d.deviceId));
    const campaign = await startCampaign(first.api, { model: 'tiny', rounds: 2, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 30, evalTimeoutSec: 60 });
    let tasks: TrainTaskSeen[] = await Promise.all(devices.map((d) => d.trainTask()));
    for (const [i, d] of devices.entries()) await d.sendUpdate(d.update(tasks[i]!, tinyDelta(0.1 * (i + 1)), 10));
    const roundId = tasks[0]!.roundId;
    const evalA = await evalTask(devices[0]!, roundId);
    await sendEval(devices[0]!, evalA, roundId, 40, 0.75, 0.5);
    await evalTask(devices[1]!, roundId);
    expect((await getCampaign(first.api, campaign.id)).rounds[0]!.state).toBe('evaluating');

    // Stop the hub while the devices are still connected (a device that leaves mid-evaluation is settled without a
    // result, which would let the round commit), then start another hub on the same data directory.
    await first.testHub.hub.close();
    for (const d of devices) await d.close();
    const second = await startTestHub({ dataDir: first.testHub.dataDir });
    const api: Api = (method, url, body) => second.api(method, url, body);
    let view = await getCampaign(api, campaign.id);
    expect(view.rounds.map((r) => r.state)).toEqual(['evaluating']);
    expect(view.roundsDone).toBe(1);

    // Device b comes back, gets its eval task again, answers: the round commits with both results, once.
    devices[0]!.commands.length = 0;
    devices[1]!.commands.length = 0;
    for (const d of devices) await d.connect(second.mqttUrl);
    const evalB = await evalTask(devices[1]!, roundId);
    expect(devices[0]!.commands.filter((c) => c.eval)).toEqual([]); // a already answered
    await sendEval(devices[1]!, evalB, roundId, 60, 0.5, 1);
    view = await waitForCampaign(api, campaign.id, (c) => c.rounds[0]!.state === 'committed', 5000, 'round 1 committed');
    expect(view.rounds[0]!.accuracy).toBeCloseTo((40 * 0.75 + 60 * 0.5) / 100, 6);

    // Round 2 runs on the restarted hub from the version round 1 produced.
    tasks = await Promise.all(devices.map((d) => d.trainTask(undefined)));
    expect(tasks.map((t) => t.roundNumber)).toEqual([2, 2]);
    const versions = (await api<Version[]>('GET', `/v1/models/${first.model.modelId}/versions`)).body;
    expect(versions.map((v) => [v.version, v.roundId])).toEqual([[1, null], [2, roundId]]);
    expect(tasks[0]!.baseVersionId).toBe(versions[1]!.id);
    expect(view.roundsDone).toBe(1);
  });
});
