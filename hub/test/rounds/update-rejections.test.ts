/**
 * Acceptance: bad updates from selected (and unselected) devices are rejected with their stable code, counted per
 * round and per device, and do not touch the aggregate — the round commits FedAvg of the valid updates only.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultCode, TensorEncoding } from '@fedfleet/proto';
import { createManualClock } from '../../src/clock.js';
import {
  downloadWeights, fedAvg, getCampaign, participantOf, startCampaign, startRoundHub, tinyDelta, waitFor, waitForCampaign,
} from './round-helpers.js';

interface RejectionCount { deviceId: string; code: string; count: number }

describe('update validation over the real broker', () => {
  it('rejects and counts unselected, mismatched, non-finite, misshapen, oversized, replayed and late updates; commits FedAvg of the valid ones', async () => {
    // On a manual clock the 30 s deadline never passes by itself: the round closes because the bad devices give up.
    const { api, httpGet, model, enroll, online, testHub } = await startRoundHub({ clock: createManualClock() });
    const good = [await enroll('good-1', { labels: { role: 'fl' } }), await enroll('good-2', { labels: { role: 'fl' } }), await enroll('good-3', { labels: { role: 'fl' } })];
    const bad = [await enroll('bad-1', { labels: { role: 'fl' } }), await enroll('bad-2', { labels: { role: 'fl' } })];
    const outsider = await enroll('outsider', { labels: { role: 'spare' } });
    await online([...good, ...bad, outsider].map((d) => d.deviceId));

    const campaign = await startCampaign(api, {
      model: 'tiny', selector: 'role=fl', rounds: 1, clients: 5, overSelect: 1, minClients: 3, deadlineSec: 30,
      maxUpdateNorm: 5, evaluate: false,
    });
    const [g1, g2, g3] = good;
    const [b1, b2] = bad;
    const tasks = new Map(await Promise.all([...good, ...bad].map(async (d) => [d.deviceId, await d.trainTask()] as const)));
    const task = (d: { deviceId: string }) => tasks.get(d.deviceId)!;
    const roundId = task(g1!).roundId;
    expect(task(g1!).baseVersionId).toBe(model.versionId);
    expect(outsider.commands).toHaveLength(0);

    // Each publish resolves on PUBACK, i.e. after the hub judged the update.
    // Not selected: an update for the round from a device that got no task (it guesses the round id).
    await outsider.sendUpdate(outsider.update(task(g1!), tinyDelta(0.1), 10, { commandId: '' }));
    await b1!.sendUpdate(b1!.update(task(b1!), tinyDelta(0.1), 10, { baseVersionId: 'some-other-version' }));
    const nan = tinyDelta(0.1);
    nan[1]!.data[2] = Number.NaN;
    await b1!.sendUpdate(b1!.update(task(b1!), tinyDelta(0), 10, {
      // fp32 bytes written by hand: the encoder itself refuses NaN.
      tensors: nan.map((t) => ({ name: t.name, shape: t.shape, encoding: TensorEncoding.TENSOR_ENCODING_FP32, data: new Uint8Array(t.data.buffer.slice(0)) })),
    }));
    await b1!.sendUpdate(b1!.update(task(b1!), [tinyDelta(0.1)[0]!, { name: 'dense/bias', shape: [4], data: new Float32Array(4) }], 10)); // bias [4], not [3]
    await b2!.sendUpdate(b2!.update(task(b2!), [tinyDelta(0.1)[0]!], 10)); // one tensor missing
    await b2!.sendUpdate(b2!.update(task(b2!), tinyDelta(2), 10)); // ‖Δ‖ = 2·√15 ≈ 7.7 > 5
    await b2!.sendUpdate(b2!.update(task(b2!), tinyDelta(0.1), 0)); // no examples
    await b2!.sendUpdate(b2!.update(task(b2!), tinyDelta(0.1), 10, { commandId: 'another-task' }));
    await b2!.sendUpdate(b2!.update(task(b2!), tinyDelta(0.1), 10, { roundId: 'no-such-round' }));

    let round = (await getCampaign(api, campaign.id)).rounds[0]!;
    expect(round.state).toBe('training');
    expect(round.updates).toBe(0);
    // A rejected update leaves the device a participant that may still send a valid one.
    expect(participantOf(await getCampaign(api, campaign.id), 1, b1!.deviceId)!.state).toBe('selected');

    const valid = [
      { device: g1!, n: 30, delta: tinyDelta(0.2, 0.01) },
      { device: g2!, n: 10, delta: tinyDelta(-0.3, 0.02) },
      { device: g3!, n: 20, delta: tinyDelta(0.05, -0.01) },
    ];
    await g1!.sendUpdate(g1!.update(task(g1!), valid[0]!.delta, valid[0]!.n));
    // A replay: the same device, a second update with a new msgId (and different numbers).
    await g1!.sendUpdate(g1!.update(task(g1!), tinyDelta(1), 1000));
    await g2!.sendUpdate(g2!.update(task(g2!), valid[1]!.delta, valid[1]!.n));
    await g3!.sendUpdate(g3!.update(task(g3!), valid[2]!.delta, valid[2]!.n));
    round = (await getCampaign(api, campaign.id)).rounds[0]!;
    expect(round.updates).toBe(3);
    expect(round.state).toBe('training'); // waiting for the bad devices, which may still send good updates

    // The bad devices give up: with nobody left to wait for, the round closes with 3 ≥ minClients updates.
    await b1!.reply(task(b1!).commandId, ResultCode.RESULT_CODE_FAILED, { errorCode: 'AGENT_ERR_TRAIN_FAILED', reason: 'loss diverged' });
    await b2!.reply(task(b2!).commandId, ResultCode.RESULT_CODE_FAILED, { errorCode: 'AGENT_ERR_TRAIN_FAILED', reason: 'loss diverged' });
    const done = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 5000, 'campaign end');
    expect(done.state).toBe('completed');

    // Late: a selected device's valid update after the round closed.
    await b1!.sendUpdate(b1!.update(task(b1!), tinyDelta(0.1), 10));

    const final = await getCampaign(api, campaign.id);
    round = final.rounds[0]!;
    expect(round.state).toBe('committed');
    expect(round.updates).toBe(3);
    expect(participantOf(final, 1, b1!.deviceId)).toMatchObject({ state: 'failed', reason: 'AGENT_ERR_TRAIN_FAILED: loss diverged' });
    const byCode = (deviceId: string) => Object.fromEntries(round.rejections.filter((r) => r.deviceId === deviceId).map((r) => [r.code, r.count]));
    expect(byCode(outsider.deviceId)).toEqual({ HUB_ERR_UPDATE_NOT_SELECTED: 1 });
    expect(byCode(b1!.deviceId)).toEqual({ HUB_ERR_UPDATE_BASE_MISMATCH: 1, HUB_ERR_UPDATE_NON_FINITE: 1, HUB_ERR_UPDATE_SHAPE: 1, HUB_ERR_UPDATE_LATE: 1 });
    expect(byCode(b2!.deviceId)).toEqual({ HUB_ERR_UPDATE_SHAPE: 1, HUB_ERR_UPDATE_NORM: 1, HUB_ERR_UPDATE_EXAMPLE_COUNT: 1, HUB_ERR_UPDATE_MALFORMED: 1 });
    expect(byCode(g1!.deviceId)).toEqual({ HUB_ERR_UPDATE_DUPLICATE: 1 });
    expect(byCode(g2!.deviceId)).toEqual({});
    expect(round.rejectedUpdates).toBe(10);
    expect(final.rejectedUpdates).toBe(10);

    // Per device over all rounds, including the update for an unknown round (which belongs to no round).
    const all = (await api<RejectionCount[]>('GET', '/v1/update-rejections')).body;
    expect(all).toContainEqual({ deviceId: b2!.deviceId, code: 'HUB_ERR_UPDATE_UNKNOWN_ROUND', count: 1 });
    expect(all).toContainEqual({ deviceId: g1!.deviceId, code: 'HUB_ERR_UPDATE_DUPLICATE', count: 1 });
    expect(all).toContainEqual({ deviceId: b1!.deviceId, code: 'HUB_ERR_UPDATE_LATE', count: 1 });
    expect(all.reduce((s, r) => s + r.count, 0)).toBe(11);

    // The committed version is FedAvg of the three valid deltas, and nothing else.
    const base = await downloadWeights(httpGet, model.modelId, 1);
    const committed = await downloadWeights(httpGet, model.modelId, 2);
    const expected = fedAvg(base, valid.map(({ n, delta }) => ({ n, delta })));
    expect(committed.map((w) => w.shape)).toEqual([[4, 3], [3]]);
    committed.forEach((w, t) => w.data.forEach((v, i) => expect(v).toBeCloseTo(expected[t]![i]!, 6)));
    expect(round.participants.filter((p) => p.state === 'updated').map((p) => p.exampleCount).sort()).toEqual([10, 20, 30]);
    expect(round.bytesUp).toBe(round.participants.reduce((s, p) => s + (p.updateBytes ?? 0), 0));

    // Nothing of the round is left in the spool once it is committed.
    await waitFor(() => !existsSync(join(testHub.dataDir, 'updates', roundId)), 2000, 'spool cleaned');
    expect(readdirSync(join(testHub.dataDir, 'updates'))).toEqual([]);
  });

  it('refuses an update that arrives after the deadline and commits with the updates that came in time', async () => {
    // The deadline is the hub's manual clock's, not the wall clock's: it passes when the test says so, however slow
    // the machine (a 0.5 s real-time deadline failed under load).
    const clock = createManualClock();
    const { api, enroll, online } = await startRoundHub({ clock });
    const devices = [await enroll('d-1'), await enroll('d-2'), await enroll('d-3')];
    await online(devices.map((d) => d.deviceId));
    // Shorter than the liveness timeout (3 missed 10 s heartbeats): moving the clock past it drops nobody.
    const deadlineMs = 10_000;
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 3, overSelect: 1, minClients: 2, deadlineSec: deadlineMs / 1000, evaluate: false });
    const [d1, d2, slow] = devices;
    const tasks = await Promise.all(devices.map((d) => d.trainTask()));
    const deadlineAtMs = tasks[0]!.deadlineAtMs;
    expect(deadlineAtMs).toBe(clock.now() + deadlineMs);
    await d1!.sendUpdate(d1!.update(tasks[0]!, tinyDelta(0.1), 5));
    await d2!.sendUpdate(d2!.update(tasks[1]!, tinyDelta(0.2), 5));
    await slow!.accept(tasks[2]!);
    await waitFor(async () => participantOf(await getCampaign(api, campaign.id), 1, slow!.deviceId)?.state === 'training', 5000, 'slow device training');

    // Two updates are enough but the round waits for the slow device until the deadline, not a millisecond less.
    clock.advance(deadlineAtMs - 1 - clock.now());
    const waiting = await getCampaign(api, campaign.id);
    expect(waiting.state).toBe('running');
    expect(waiting.rounds[0]).toMatchObject({ state: 'training', updates: 2 });

    // The deadline closes the round without the slow device; it is told to stop.
    clock.advance(1);
    const done = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 5000, 'deadline');
    expect(done.state).toBe('completed');
    expect(participantOf(done, 1, slow!.deviceId)).toMatchObject({ state: 'cancelled', reason: 'round closed before its update' });
    await waitFor(() => slow!.cancelsFor(tasks[2]!.commandId).length === 1, 2000, 'cancel received');

    await slow!.sendUpdate(slow!.update(tasks[2]!, tinyDelta(0.3), 5));
    const after = await getCampaign(api, campaign.id);
    expect(after.rounds[0]!.rejections).toEqual([{ deviceId: slow!.deviceId, code: 'HUB_ERR_UPDATE_LATE', count: 1 }]);
    expect(after.rounds[0]!.updates).toBe(2);
    expect(participantOf(after, 1, slow!.deviceId)!.exampleCount).toBeNull();
  });
});
