/**
 * Issue 10 item 5 (shadow canary), end to end over real simulated devices (firmware-sim SimFleet: Raspberry Pi 4 and
 * Cortex-M4 profiles, each with its own model store and int8 kernels). The hub side was tested with scripted devices
 * (hub/test/rollouts/rollout-gate.test.ts); here the shadow counts come from the devices' own simulated labelled
 * traffic (champion and challenger on the same held-out digits, firmware-sim/docs/simulated-fleet.md "Serving
 * models"), pooled and judged by the hub (hub/docs/rollouts.md "Shadow waves").
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { SIM_PROFILES, type SimFleet } from '@fedfleet/firmware-sim';
import type { ModelStoreState } from '@fedfleet/agent';
import type { TestHub } from '../../hub/test/helpers/test-hub.js';
import { addTrainedVersion, quantizeVersion, servingHub, startFleet } from '../../firmware-sim/test/sim-serving-helpers.js';
import { waitFor } from './helpers/agent-harness.js';
import { completed, devicesById, idsOf, int8Rollout, rollOut, settled } from './helpers/rollout-sim.js';

const PI = SIM_PROFILES['rpi4']!;
const MCU = SIM_PROFILES['mcu-m4']!;
/** Digits the worse version has barely seen; the devices of the first test hold only these. */
const FAULT_DIGITS = [7, 8, 9];
const FAULT_DATA = `mnist:labels:${FAULT_DIGITS.join(',')}`;
/** Labelled inferences each shadowing device reports before its wave is judged (two heartbeats of simulated traffic). */
const MIN_INFERENCES = 40;
const MAX_DROP_PTS = 5;
const pts = (fraction: number) => Math.round(fraction * 10_000) / 100;

interface ServingSeen {
  /** Every Status the hub received: the device's serving and shadow version, in arrival order. */
  statuses: Array<{ deviceId: string; active: string; shadow: string }>;
  /** Every change of every device's model store, as the store announced it. */
  stores: Array<{ deviceId: string; state: ModelStoreState }>;
}

/** Records from now on what every device serves: the Statuses the hub receives and the devices' own store changes. */
function watchServing(testHub: TestHub, fleets: SimFleet[]): ServingSeen {
  const seen: ServingSeen = { statuses: [], stores: [] };
  onTestFinished(testHub.hub.broker.router.on('status', ({ deviceId, envelope }) => {
    const status = envelope.status;
    if (status) seen.statuses.push({ deviceId, active: status.activeVersionId ?? '', shadow: status.shadowVersionId ?? '' });
  }));
  for (const device of fleets.flatMap((f) => f.devices)) {
    const store = device.serving.store()!;
    const deviceId = device.agent.deviceId!;
    const onChanged = (state: ModelStoreState) => void seen.stores.push({ deviceId, state });
    store.on('changed', onChanged);
    onTestFinished(() => void store.off('changed', onChanged));
  }
  return seen;
}

describe('shadow canaries over simulated devices', () => {
  it('a shadow wave finds the challenger worse on the devices\' own digits: the rollout aborts before any device serves it and every shadow ends', async () => {
    const hub = await servingHub(1);
    const { testHub } = hub;
    const v2 = hub.versions[1]!;
    // Version 3: version 2 trained one more epoch on 2,000 digits of which only every 60th 7, 8 and 9 was kept.
    const v3 = await addTrainedVersion(testHub, v2, 21, 2000, (label, seenOfLabel) => !FAULT_DIGITS.includes(label) || seenOfLabel % 60 === 0);
    await quantizeVersion(testHub, 3);
    const pis = await startFleet(testHub, PI, 2, { dataFor: () => FAULT_DATA });
    const mcus = await startFleet(testHub, MCU, 1, { dataFor: () => FAULT_DATA });
    await rollOut(testHub, int8Rollout(2, { waves: [{ percent: 100 }] }), completed, 'every device on version 2');

    const seen = watchServing(testHub, [pis, mcus]);
    const waves = [{ devices: 2, shadow: { minInferences: MIN_INFERENCES, maxAccuracyDropPts: MAX_DROP_PTS } }, { percent: 100 }];
    const aborted = await rollOut(testHub, int8Rollout(3, { waves }), settled, 'aborted, every shadow ended');
    const [shadowWave, lastWave] = aborted.waves;
    const result = shadowWave!.shadowResult!;
    console.log(`shadow wave: challenger ${pts(result.challengerAccuracy!)} % vs champion ${pts(result.championAccuracy!)} % on ${result.labelled} labelled inferences, agreement ${pts(result.agreement!)} %`);
    expect(aborted).toMatchObject({ state: 'aborted', errorCode: 'HUB_ERR_ROLLOUT_SHADOW_WORSE' });
    expect(aborted.reason).toContain(`points worse (at most ${MAX_DROP_PTS} allowed)`);
    expect(shadowWave).toMatchObject({ state: 'aborted', shadowResult: { verdict: 'worse' } });
    expect(lastWave).toMatchObject({ state: 'aborted', startedAt: null });
    // The counts are the devices' own traffic: every shadowing device labelled at least minInferences.
    expect(result.labelled).toBeGreaterThanOrEqual(2 * MIN_INFERENCES);
    expect(result.dropPts!).toBeGreaterThan(MAX_DROP_PTS);

    const shadowed = aborted.targets.filter((t) => t.wave === 1);
    expect(shadowed).toHaveLength(2);
    for (const target of shadowed) {
      expect(target).toMatchObject({ mode: 'shadow', state: 'rolled-back', changed: true });
      expect(target.shadow!.labelled).toBeGreaterThanOrEqual(MIN_INFERENCES);
    }
    const untouched = aborted.targets.find((t) => t.wave === 2)!;
    expect(untouched).toMatchObject({ state: 'skipped', changed: false, commandId: null });

    // Every shadow ended: each Status shows version 2 serving and no shadow.
    await waitFor(async () => [...(await devicesById(testHub)).values()].every((d) => d.activeVersionId === v2 && !d.shadowVersionId), 10_000, 'every Status on version 2, no shadow');
    // A device sends a Status when what it serves changes: the shadowing ones last sent one that ended the shadow.
    const lastStatusOf = new Map(seen.statuses.map((s) => [s.deviceId, s]));
    for (const { deviceId } of shadowed) expect(lastStatusOf.get(deviceId), deviceId).toEqual({ deviceId, active: v2, shadow: '' });

    // Throughout: no Status and no store ever had version 3 serving; the shadowing devices did run it as challenger.
    expect(seen.statuses.filter((s) => s.active !== v2)).toEqual([]);
    expect(seen.stores.filter((s) => s.state.active?.versionId !== v2)).toEqual([]);
    for (const target of shadowed) {
      expect(seen.statuses.some((s) => s.deviceId === target.deviceId && s.shadow === v3), target.deviceName!).toBe(true);
      expect(seen.stores.some((s) => s.deviceId === target.deviceId && s.state.shadow?.versionId === v3), target.deviceName!).toBe(true);
    }
    expect(seen.statuses.some((s) => s.deviceId === untouched.deviceId && s.shadow !== '')).toBe(false);
  }, 120_000);

  it('a shadow wave of a version at least as good is promoted: its devices activate it through the health gate and the rollout completes', async () => {
    const hub = await servingHub(2);
    const { testHub } = hub;
    const [, v2, v3] = hub.versions as [string, string, string];
    const pis = await startFleet(testHub, PI, 2);
    const mcus = await startFleet(testHub, MCU, 1);
    const ids = idsOf(pis, mcus);
    await rollOut(testHub, int8Rollout(2, { waves: [{ percent: 100 }] }), completed, 'every device on version 2');

    const seen = watchServing(testHub, [pis, mcus]);
    const waves = [{ devices: 2, shadow: { minInferences: MIN_INFERENCES, maxAccuracyDropPts: MAX_DROP_PTS } }, { percent: 100 }];
    const done = await rollOut(testHub, int8Rollout(3, { waves }), completed, 'version 3 rolled out');
    const result = done.waves[0]!.shadowResult!;
    console.log(`shadow wave: challenger ${pts(result.challengerAccuracy!)} % vs champion ${pts(result.championAccuracy!)} % on ${result.labelled} labelled inferences, agreement ${pts(result.agreement!)} %`);
    expect(done.waves.map((w) => ({ state: w.state, size: w.size, healthy: w.healthy, failed: w.failed }))).toEqual([
      { state: 'passed', size: 2, healthy: 2, failed: 0 },
      { state: 'passed', size: 1, healthy: 1, failed: 0 },
    ]);
    expect(result).toMatchObject({ verdict: 'promoted' });
    expect(result.labelled).toBeGreaterThanOrEqual(2 * MIN_INFERENCES);
    expect(result.dropPts!).toBeLessThanOrEqual(MAX_DROP_PTS);

    // The promoted devices went through the health gate: a self-test of version 3 beside its baseline.
    for (const target of done.targets) {
      expect(target, target.deviceName!).toMatchObject({ state: 'healthy', verdict: 'healthy', changed: true, mode: 'activate', errorCode: null });
      expect(target.selfTest!.examples).toBeGreaterThan(0);
      expect(target.baseline!.examples).toBe(target.selfTest!.examples);
    }
    // Each wave-1 device shadowed version 3 before it served it; none served it before the shadow ended.
    for (const target of done.targets.filter((t) => t.wave === 1)) {
      const mine = seen.statuses.filter((s) => s.deviceId === target.deviceId);
      const firstShadow = mine.findIndex((s) => s.shadow === v3);
      const firstServing = mine.findIndex((s) => s.active === v3);
      expect(firstShadow, target.deviceName!).toBeGreaterThanOrEqual(0);
      expect(firstServing, target.deviceName!).toBeGreaterThan(firstShadow);
      expect(mine.slice(0, firstServing).every((s) => s.active === v2), target.deviceName!).toBe(true);
    }
    // The second wave had no shadow: its device activated directly.
    expect(done.targets.find((t) => t.wave === 2)!.shadow).toBeNull();

    await waitFor(async () => [...(await devicesById(testHub)).values()].every((d) => d.activeVersionId === v3 && !d.shadowVersionId), 10_000, 'every Status on version 3, no shadow');
    for (const id of ids) expect((await devicesById(testHub)).get(id)).toMatchObject({ activeVersionId: v3, previousVersionId: v2 });
  }, 120_000);
});
