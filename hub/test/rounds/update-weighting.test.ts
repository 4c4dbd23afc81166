/**
 * Acceptance (DESIGN §9 "No single device can dominate an aggregate"): a selected device that claims 999,999,999
 * examples with a small, norm-compliant delta carries only its bounded weight into the committed model — under
 * every strategy that weighs updates by examples — and the bound is visible on the round's participants.
 * Scripted devices over the real broker; expected models are computed from the bounded weights exactly.
 */
import { describe, expect, it } from 'vitest';
import { DeviceState, type ModelWeights } from '@fedfleet/proto';
import { createStrategy } from '../../src/rounds/strategies/index.js';
import {
  BOARD, downloadWeights, fedAvg, participantOf, startCampaign, startRoundHub, tinyDelta, waitForCampaign, type RawDevice,
} from './round-helpers.js';

const LIE = 999_999_999;

/** The committed model as a strategy computes it from `updates` with the given weights, in the hub's device order. */
function aggregateWith(strategy: string, options: Record<string, number>, base: ModelWeights, updates: { deviceId: string; weight: number; delta: ModelWeights }[]): Float32Array[] {
  const aggregator = createStrategy(strategy, options).begin(base);
  for (const u of [...updates].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1))) {
    aggregator.add({
      deviceId: u.deviceId, exampleCount: u.weight, delta: u.delta.map((w) => ({ ...w, name: '' })), // names are informative only
    });
  }
  return aggregator.finish().map((w) => w.data);
}

function expectModel(got: ModelWeights, expected: readonly Float32Array[]): void {
  got.forEach((w, t) => w.data.forEach((v, i) => expect(v).toBeCloseTo(expected[t]![i]!, 6)));
}

async function declare(device: RawDevice, trainExamples: number): Promise<void> {
  await device.publish('status', { status: { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: 'raw/1', profile: BOARD, heartbeatSec: 10, trainExamples } }, { retain: true });
}

describe('update weights are bounded by what the hub knows', () => {
  it('a liar claiming 999,999,999 examples weighs capFactor × the round median under fedavg, fedprox, fedavgm and fedadam', async () => {
    const { api, httpGet, model, enroll, online } = await startRoundHub();
    const honest = [await enroll('honest-1'), await enroll('honest-2'), await enroll('honest-3'), await enroll('honest-4')];
    const liar = await enroll('liar');
    await online([...honest, liar].map((d) => d.deviceId));
    const base = await downloadWeights(httpGet, model.modelId, 1);

    // Honest deltas push every coordinate up, the liar's pulls it down: with its claim counted the model would move
    // by (almost exactly) the liar's delta; bounded, the honest majority keeps the sign.
    const honestUpdates = honest.map((device, k) => ({ device, claimed: 20 + 10 * k, delta: tinyDelta(0.01 * (k + 1), 0.001) }));
    const liarDelta = tinyDelta(-0.02, -0.001); // ‖Δ‖ ≈ 0.08, well within maxUpdateNorm 1
    const cases: { strategy: string; strategyOptions: Record<string, number>; weightCapFactor?: number; liarWeight: number }[] = [
      // Bounded counts 20, 30, 40, 50, 10⁹ → lower median 40 → the liar weighs ⌊3 × 40⌋ = 120 of 260.
      { strategy: 'fedavg', strategyOptions: {}, liarWeight: 120 },
      { strategy: 'fedprox', strategyOptions: { proximalMu: 0.1 }, liarWeight: 120 },
      { strategy: 'fedavgm', strategyOptions: { serverLr: 0.5, momentum: 0.9 }, liarWeight: 120 },
      { strategy: 'fedadam', strategyOptions: {}, liarWeight: 120 },
      // A tighter campaign cap: ⌊1.5 × 40⌋ = 60.
      { strategy: 'fedavg', strategyOptions: {}, weightCapFactor: 1.5, liarWeight: 60 },
    ];
    for (const c of cases) {
      const campaign = await startCampaign(api, {
        model: 'tiny', baseVersion: 1, rounds: 1, clients: 5, overSelect: 1, minClients: 5, deadlineSec: 30, maxUpdateNorm: 1,
        evaluate: false, strategy: c.strategy, strategyOptions: c.strategyOptions,
        ...(c.weightCapFactor ? { weightCapFactor: c.weightCapFactor } : {}),
      });
      const roundId = campaign.rounds[0]!.id;
      for (const { device, claimed, delta } of honestUpdates) await device.sendUpdate(device.update(await device.trainTask(roundId), delta, claimed));
      await liar.sendUpdate(liar.update(await liar.trainTask(roundId), liarDelta, LIE));
      const done = await waitForCampaign(api, campaign.id, (x) => x.state !== 'running', 5000, `${c.strategy} campaign`);
      expect(done.state, c.strategy).toBe('completed');

      // The claim is kept; the weight is what the aggregation used.
      expect(participantOf(done, 1, liar.deviceId)).toMatchObject({ state: 'updated', exampleCount: LIE, weight: c.liarWeight, declaredExamples: null });
      for (const { device, claimed } of honestUpdates) expect(participantOf(done, 1, device.deviceId)).toMatchObject({ exampleCount: claimed, weight: claimed });

      const updates = [
        ...honestUpdates.map(({ device, claimed, delta }) => ({ deviceId: device.deviceId, weight: claimed, delta })),
        { deviceId: liar.deviceId, weight: c.liarWeight, delta: liarDelta },
      ];
      const committed = await downloadWeights(httpGet, model.modelId, done.rounds[0]!.resultVersionId!);
      expectModel(committed, aggregateWith(c.strategy, c.strategyOptions, base, updates));
      if (c.strategy === 'fedavg' || c.strategy === 'fedprox') {
        // By hand: the liar moves the model by exactly its bounded share of its delta, liarWeight / (140 + liarWeight).
        expectModel(committed, fedAvg(base, updates.map((u) => ({ n: u.weight, delta: u.delta }))));
        const share = c.liarWeight / (140 + c.liarWeight);
        const honestMean = fedAvg(base, honestUpdates.map((u) => ({ n: u.claimed, delta: u.delta })));
        committed.forEach((w, t) => w.data.forEach((v, i) => {
          expect(v).toBeCloseTo((1 - share) * honestMean[t]![i]! + share * (base[t]!.data[i]! + liarDelta[t]!.data[i]!), 6);
        }));
      }
      // Every coordinate moved the honest way (the liar's claim alone would have moved each one its way).
      committed.forEach((w, t) => w.data.forEach((v, i) => expect(v, `${c.strategy} ${t}/${i}`).toBeGreaterThan(base[t]!.data[i]!)));
    }
  });

  it('bounds a claim by the task\'s maxExamples and by the count the device declared before it was selected', async () => {
    const { api, httpGet, model, enroll, online } = await startRoundHub();
    const [a, b, c, d] = [await enroll('a'), await enroll('b'), await enroll('c'), await enroll('d')];
    await declare(a!, 15); // declares 15, then claims 10⁹
    await declare(b!, 100); // declares 100, claims 50, the task allows 40
    // c declares nothing (an older agent): only maxExamples and the median bound it
    await declare(d!, 15); // declares 15 before selection, 10⁶ after, and claims 10⁶
    await online([a!, b!, c!, d!].map((x) => x.deviceId));

    const campaign = await startCampaign(api, {
      model: 'tiny', rounds: 1, clients: 4, overSelect: 1, minClients: 4, deadlineSec: 30, maxExamples: 40, evaluate: false,
    });
    const roundId = campaign.rounds[0]!.id;
    const tasks = await Promise.all([a!, b!, c!, d!].map((x) => x.trainTask(roundId)));
    await declare(d!, 1_000_000);
    const sent = [
      { device: a!, claimed: LIE, weight: 15, declared: 15, delta: tinyDelta(-0.05) },
      { device: b!, claimed: 50, weight: 40, declared: 100, delta: tinyDelta(0.02, 0.001) },
      { device: c!, claimed: 30, weight: 30, declared: null, delta: tinyDelta(0.03, -0.001) },
      { device: d!, claimed: 1_000_000, weight: 15, declared: 15, delta: tinyDelta(-0.04, 0.002) },
    ];
    for (const [k, s] of sent.entries()) await s.device.sendUpdate(s.device.update(tasks[k]!, s.delta, s.claimed));
    const done = await waitForCampaign(api, campaign.id, (x) => x.state !== 'running', 5000, 'campaign end');
    expect(done.state).toBe('completed');

    for (const s of sent) {
      expect(participantOf(done, 1, s.device.deviceId)).toMatchObject({ exampleCount: s.claimed, declaredExamples: s.declared, weight: s.weight });
    }
    const base = await downloadWeights(httpGet, model.modelId, 1);
    const committed = await downloadWeights(httpGet, model.modelId, 2);
    expectModel(committed, fedAvg(base, sent.map((s) => ({ n: s.weight, delta: s.delta }))));
  });
});
