/** Acceptance: a multi-round federated campaign over the real broker with real agents commits a lineage of versions. */
import { describe, expect, it } from 'vitest';
import { ResultCode } from '@fedfleet/proto';
import { FAST_TRAINING, getCampaign, startAgents, startCampaign, startFlHub, waitForCampaign } from './fl-harness.js';

interface Version {
  id: string; version: number; parentVersionId: string | null; roundId: string | null; campaignId: string | null; source: string;
  metrics: Record<string, unknown>;
}

describe('federated campaign over the real broker', () => {
  it('runs 3 rounds with 5 agents and registers v2..v4 with lineage, evaluation and traffic per round', async () => {
    const hub = await startFlHub();
    const agents = await startAgents(hub, Array.from({ length: 5 }, (_, i) => ({ name: `pi-${i}`, data: { index: i, of: 5 } })));
    const started = await startCampaign(hub.api, {
      model: 'digits', rounds: 3, clients: 4, overSelect: 1.25, minClients: 3, deadlineSec: 30, evalTimeoutSec: 20, seed: 11,
      ...FAST_TRAINING,
    });
    expect(started.state).toBe('running');

    const done = await waitForCampaign(hub.api, started.id, (c) => c.state !== 'running', 45_000, 'campaign end');
    expect(done.state).toBe('completed');
    expect(done.error).toBeNull();
    expect(done.roundsDone).toBe(3);
    expect(done.rounds.map((r) => r.state)).toEqual(['committed', 'committed', 'committed']);

    const versions = (await hub.api<Version[]>('GET', `/v1/models/${hub.modelId}/versions`)).body;
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    expect(versions[0]!.parentVersionId).toBeNull();
    for (let i = 1; i < 4; i++) {
      const v = versions[i]!;
      const round = done.rounds[i - 1]!;
      expect(v.source).toBe('round');
      expect(v.parentVersionId).toBe(versions[i - 1]!.id);
      expect(v.roundId).toBe(round.id);
      expect(v.campaignId).toBe(started.id);
      expect(round.baseVersionId).toBe(versions[i - 1]!.id);
      expect(round.resultVersionId).toBe(v.id);
      // The version carries the fleet-weighted federated evaluation of its round.
      expect(v.metrics.accuracy).toBe(round.accuracy);
      expect(v.metrics.loss).toBe(round.loss);
      expect(v.metrics.round).toBe(i);
    }
    expect(done.currentVersionId).toBe(versions[3]!.id);
    const lineage = (await hub.api<{ lineage: { id: string; version: number; roundId: string | null }[] }>(
      'GET', `/v1/models/${hub.modelId}/versions/latest`)).body.lineage;
    expect(lineage.map((l) => l.version)).toEqual([3, 2, 1]);

    const names = new Map(agents.map((a) => [a.deviceId, a.name]));
    for (const round of done.rounds) {
      // 5 eligible, ⌈4 × 1.25⌉ = 5 selected; the round closes as soon as K = 4 updates are in.
      expect(round.participants).toHaveLength(5);
      expect(round.updates).toBeGreaterThanOrEqual(4);
      const updated = round.participants.filter((p) => p.state === 'updated');
      expect(updated.length).toBe(round.updates);
      for (const p of round.participants) expect(names.get(p.deviceId)).toBe(p.deviceName);
      for (const p of round.participants) expect(['updated', 'cancelled']).toContain(p.state);
      for (const p of updated) {
        expect(p.exampleCount).toBe(FAST_TRAINING.maxExamples);
        expect(p.updateBytes).toBeGreaterThan(4 * 199_210); // fp32 delta of every parameter
      }
      // Federated evaluation: every updated device scored the new version on its held-out data (400 digits each).
      const evaluated = round.participants.filter((p) => p.evalAccuracy !== null);
      expect(evaluated.length).toBe(updated.length);
      const n = evaluated.reduce((s, p) => s + p.evalExamples!, 0);
      expect(n).toBe(400 * evaluated.length);
      const weighted = evaluated.reduce((s, p) => s + p.evalExamples! * p.evalAccuracy!, 0) / n;
      expect(round.accuracy).toBeCloseTo(weighted, 6);
      expect(round.accuracy).toBeGreaterThan(0.15); // above chance (0.1) from the first round on
      expect(round.loss).toBeGreaterThan(0);
      expect(round.bytesDown).toBeGreaterThan(4 * 199_210 * 4); // ≥ 4 fp32 model downloads
      expect(round.bytesUp).toBeGreaterThan(4 * 199_210 * 4);
      // An over-selected straggler's update may cross the Cancel: it is refused as late, nothing else is.
      const cancelled = new Set(round.participants.filter((p) => p.state === 'cancelled').map((p) => p.deviceId));
      for (const r of round.rejections) {
        expect(r.code).toBe('HUB_ERR_UPDATE_LATE');
        expect(cancelled.has(r.deviceId)).toBe(true);
      }
    }
    expect(done.accuracy).toEqual(done.rounds.map((r) => r.accuracy));
    // Learning happens: the third version beats the first, well above chance.
    expect(done.accuracy[2]!).toBeGreaterThan(done.accuracy[0]!);
    expect(done.accuracy[2]!).toBeGreaterThan(0.35);
    expect((await getCampaign(hub.api, started.id)).bytesUp).toBe(done.rounds.reduce((s, r) => s + r.bytesUp, 0));
  });
});

describe('back-to-back rounds', () => {
  it('a device is free for the next round once its update is stored, however slowly the update and its final result are acknowledged', async () => {
    const hub = await startFlHub();
    const agents = await startAgents(hub, Array.from({ length: 3 }, (_, i) => ({ name: `pi-${i}`, data: { index: i, of: 3 } })));
    // A slow link: the hub handles each final DONE result at once but its PUBACK reaches the device 200 ms later.
    hub.hub.broker.router.on('reply', (m) => {
      if (m.envelope.commandResult?.code === ResultCode.RESULT_CODE_DONE) return new Promise((resolve) => setTimeout(resolve, 200));
    });
    // Likewise the update: the coordinator (its handler runs first) stores it and may close the round and send the
    // next task while the update's own PUBACK is still 200 ms away.
    hub.hub.broker.router.on('update', () => new Promise((resolve) => setTimeout(resolve, 200)));
    // No evaluation, every selected client needed: the next round's task follows the last update immediately.
    const started = await startCampaign(hub.api, {
      model: 'digits', rounds: 3, clients: 3, overSelect: 1, minClients: 3, deadlineSec: 30, evaluate: false, seed: 4, ...FAST_TRAINING,
    });
    const done = await waitForCampaign(hub.api, started.id, (c) => c.state !== 'running', 30_000, 'campaign end');
    expect(done.error).toBeNull();
    expect(done.state).toBe('completed');
    for (const round of done.rounds) {
      expect(round.participants.map((p) => p.state)).toEqual(['updated', 'updated', 'updated']);
      expect(round.participants.map((p) => p.deviceId).sort()).toEqual(agents.map((a) => a.deviceId).sort());
    }
  });
});
