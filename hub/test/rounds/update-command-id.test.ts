/**
 * Acceptance: an update must name the train task it answers. One with an empty (or absent — the same bytes on the
 * wire) commandId is rejected with the code of any other task mismatch, counted, and changes nothing; the device
 * may still send its real update.
 */
import { describe, expect, it } from 'vitest';
import {
  downloadWeights, fedAvg, getCampaign, participantOf, startCampaign, startRoundHub, tinyDelta, waitForCampaign,
} from './round-helpers.js';

describe('an update answers its train task', () => {
  it('rejects an update with an empty or absent commandId like one with a wrong commandId', async () => {
    const { api, httpGet, model, enroll, online } = await startRoundHub();
    const [d1, d2] = [await enroll('d-1'), await enroll('d-2')];
    await online([d1!.deviceId, d2!.deviceId]);
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 30, evaluate: false });
    const [t1, t2] = await Promise.all([d1!.trainTask(), d2!.trainTask()]);

    // Everything else about these updates is right: round, base version, shapes, example count.
    await d1!.sendUpdate(d1!.update(t1!, tinyDelta(1), 1000, { commandId: '' }));
    const { commandId: _omitted, ...absent } = d1!.update(t1!, tinyDelta(1), 1000);
    await d1!.sendUpdate(absent);
    await d1!.sendUpdate(d1!.update(t1!, tinyDelta(1), 1000, { commandId: t2!.commandId })); // another device's task
    let view = await getCampaign(api, campaign.id);
    expect(view.rounds[0]!.updates).toBe(0);
    expect(participantOf(view, 1, d1!.deviceId)).toMatchObject({ state: 'selected', exampleCount: null });
    expect(view.rounds[0]!.rejections).toEqual([{ deviceId: d1!.deviceId, code: 'HUB_ERR_UPDATE_MALFORMED', count: 3 }]);

    const valid = [{ n: 10, delta: tinyDelta(0.1, 0.01) }, { n: 20, delta: tinyDelta(-0.2, 0.02) }];
    await d1!.sendUpdate(d1!.update(t1!, valid[0]!.delta, valid[0]!.n));
    await d2!.sendUpdate(d2!.update(t2!, valid[1]!.delta, valid[1]!.n));
    view = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 5000, 'campaign end');
    expect(view.state).toBe('completed');
    expect(view.rejectedUpdates).toBe(3);

    const base = await downloadWeights(httpGet, model.modelId, 1);
    const committed = await downloadWeights(httpGet, model.modelId, 2);
    const expected = fedAvg(base, valid);
    committed.forEach((w, t) => w.data.forEach((v, i) => expect(v).toBeCloseTo(expected[t]![i]!, 6)));
  });
});
