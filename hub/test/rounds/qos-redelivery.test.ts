/**
 * Acceptance: MQTT QoS 1 is "at least once" [MQTT-4.3.2]; a redelivered update (same msgId, with or without the DUP
 * flag, even while the first copy is still being handled) is dropped by the router and counted once — not as a
 * rejection, not twice in the aggregate.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  downloadWeights, fedAvg, getCampaign, participantOf, startCampaign, startRoundHub, tinyDelta, waitForCampaign,
} from './round-helpers.js';

async function metric(inject: (url: string) => Promise<string>, series: string): Promise<number> {
  const line = (await inject('/metrics')).split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('QoS 1 redelivery of updates', () => {
  it('counts a redelivered update once: no rejection, example count and aggregate unchanged', async () => {
    const { api, httpGet, model, enroll, online, testHub } = await startRoundHub();
    const metrics = async (url: string) => (await testHub.hub.inject({ method: 'GET', url })).body;
    const d1 = await enroll('d-1');
    const d2 = await enroll('d-2');
    await online([d1.deviceId, d2.deviceId]);
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 30, evaluate: false });
    const [t1, t2] = [await d1.trainTask(), await d2.trainTask()];
    const delta1 = tinyDelta(0.5, 0.03);
    const delta2 = tinyDelta(-0.2, 0.01);

    const bytes = await d1.sendUpdate(d1.update(t1, delta1, 7), { msgId: 'update-of-d1' });
    // The same envelope again: once as a retransmission (DUP), then twice at once, before either is acknowledged.
    await d1.publishBytes('update', bytes, { dup: true });
    await Promise.all([d1.publishBytes('update', bytes), d1.publishBytes('update', bytes, { dup: true })]);

    let view = await getCampaign(api, campaign.id);
    expect(view.rounds[0]!.state).toBe('training');
    expect(view.rounds[0]!.updates).toBe(1);
    expect(participantOf(view, 1, d1.deviceId)).toMatchObject({ state: 'updated', exampleCount: 7 });
    expect(view.rounds[0]!.rejections).toEqual([]);
    expect(await metric(metrics, 'fedfleet_mqtt_duplicate_messages_total{kind="update"}')).toBe(3);
    expect(await metric(metrics, 'fedfleet_mqtt_messages_total{kind="update"}')).toBe(1);

    await d2.sendUpdate(d2.update(t2, delta2, 3));
    view = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 5000, 'commit');
    expect(view.state).toBe('completed');
    expect(view.rounds[0]!.updates).toBe(2);
    expect(view.rounds[0]!.rejectedUpdates).toBe(0);
    expect((await api<unknown[]>('GET', '/v1/update-rejections')).body).toEqual([]);
    // Uplink bytes count each accepted update once.
    const sizes = view.rounds[0]!.participants.map((p) => p.updateBytes!);
    expect(view.rounds[0]!.bytesUp).toBe(sizes[0]! + sizes[1]!);

    const base = await downloadWeights(httpGet, model.modelId, 1);
    const committed = await downloadWeights(httpGet, model.modelId, 2);
    const once = fedAvg(base, [{ n: 7, delta: delta1 }, { n: 3, delta: delta2 }]);
    committed.forEach((w, t) => w.data.forEach((v, i) => expect(v).toBeCloseTo(once[t]![i]!, 6)));
  });

  it('spools an update under a name of its own, whatever msgId the device chose', async () => {
    const { api, enroll, online, testHub } = await startRoundHub();
    const d1 = await enroll('d-1');
    const d2 = await enroll('d-2');
    await online([d1.deviceId, d2.deviceId]);
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 30, evaluate: false });
    const [t1, t2] = [await d1.trainTask(), await d2.trainTask()];
    const roundDir = join(testHub.dataDir, 'updates', t1.roundId);

    // msgId is device-controlled text: it must not become a path (…/updates/<round>/<dev>-x/../../../escape.pb).
    await d1.sendUpdate(d1.update(t1, tinyDelta(0.1), 4), { msgId: 'x/../../../escape' });
    await d2.sendUpdate(d2.update(t2, tinyDelta(0.2), 4), { msgId: 'y'.repeat(400) }); // longer than a file name may be
    expect(existsSync(join(testHub.dataDir, 'escape.pb'))).toBe(false);
    const view = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 5000, 'commit');
    expect(view.state).toBe('completed');
    expect(view.rounds[0]!.updates).toBe(2);
    expect(existsSync(roundDir)).toBe(false);
    expect(readdirSync(testHub.dataDir).filter((f) => f.endsWith('.pb'))).toEqual([]);
  });
});
