/**
 * The health gate and the shadow canary stop a rollout whose new version is worse on the devices' own data: second-
 * wave devices failing the accuracy gate abort it and every device it changed goes back to its previous version; a
 * shadow wave whose challenger is less accurate than the champion aborts it before any device switches.
 */
import { describe, expect, it } from 'vitest';
import { DeployMode } from '@fedfleet/proto';
import { createRollout, scriptedDevice, startRolloutHub, targetOf, waitForRollout, type DeviceScript } from '../helpers/rollout-devices.js';
import { waitFor } from '../rounds/round-helpers.js';

async function fleet(scripts: DeviceScript[]) {
  const setup = await startRolloutHub();
  const { model } = setup;
  const devices = [];
  // Waves take devices online first, then by id (random here): tests find a device's wave from the rollout.
  for (const [i, script] of scripts.entries()) devices.push(await scriptedDevice(setup, `d${i}`, model.modelId, { active: model.versionId, script }));
  await setup.online(devices.map((d) => d.deviceId));
  return { ...setup, devices };
}

describe('the health gate', () => {
  it('aborts when second-wave devices fail the accuracy gate, and every changed device goes back to its previous version', async () => {
    const worse: DeviceScript = { accuracy: 0.8, baselineAccuracy: 0.9 };
    const { api, v2, devices, model, testHub } = await fleet([{}, {}, {}, {}, {}]);
    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ devices: 2 }, { percent: 100, errorThreshold: 0.2 }] });
    // The wave-2 devices are the ones the plan put there; two of its three get data on which version 2 is worse.
    const second = devices.filter((d) => targetOf(created, d)!.wave === 2);
    expect(second).toHaveLength(3);
    second[0]!.script = worse;
    second[1]!.script = worse;

    const aborted = await waitForRollout(api, created.id, (r) => r.state === 'aborted' && r.counts['rolling-back'] === 0, 'rollout aborted and rolled back');
    expect(aborted).toMatchObject({ errorCode: 'HUB_ERR_ROLLOUT_ERROR_THRESHOLD' });
    expect(aborted.reason).toMatch(/^wave 2: \d of 3 devices failed/);
    expect(aborted.waves.map((w) => w.state)).toEqual(['passed', 'aborted']);
    // The first worse device to report fails the gate (1 of 3 is above 20 %); the rollout aborts there.
    const failing = aborted.targets.find((t) => t.errorCode === 'HUB_ERR_ROLLOUT_GATE_FAILED')!;
    expect(second.slice(0, 2).map((d) => d.deviceId)).toContain(failing.deviceId);
    expect(failing).toMatchObject({ state: 'rolled-back', verdict: 'failed', changed: true });
    expect(failing.reason).toMatch(/self-test accuracy 80 % is 10 points below the previous version's 90 % \(at most 2 allowed\)/);
    expect(failing.selfTest).toMatchObject({ accuracy: expect.closeTo(0.8, 5), examples: 50 });
    expect(failing.baseline).toMatchObject({ accuracy: expect.closeTo(0.9, 5) });
    // Every device the rollout changed is back on version 1 and says so; nothing stays owed.
    await Promise.all(devices.map((d) => d.settled()));
    for (const device of devices) {
      expect(device.active).toBe(model.versionId);
      const target = targetOf(aborted, device)!;
      expect(target.state === 'rolled-back' || (target.state === 'skipped' && !target.changed)).toBe(true);
      expect(testHub.hub.commands.owedTo(device.deviceId)).toEqual([]);
    }
    expect(devices.filter((d) => d.received.some((c) => c.rollback?.fromVersionId === v2)).length).toBeGreaterThanOrEqual(3);
    const device = (await api<{ activeVersionId: string }>('GET', `/v1/devices/${failing.deviceId}`)).body;
    expect(device.activeVersionId).toBe(model.versionId);
    const audit = (await api<{ action: string; details: { to?: string } }[]>('GET', `/v1/audit?target=${created.id}&limit=1000`)).body;
    expect(audit.filter((e) => e.action === 'rollout.state').map((e) => e.details.to)).toContain('aborted');
  });

  it('fails a device whose p95 latency grew more than maxLatencyFactor, and passes the others', async () => {
    const { api, devices } = await fleet([{}, { p95Ms: 35 }]);
    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ percent: 100, errorThreshold: 0.5, successThreshold: 0.5 }], gate: { maxLatencyFactor: 3 } });
    const done = await waitForRollout(api, created.id, (r) => r.state === 'completed' && r.counts['rolling-back'] === 0, 'rollout completed');
    expect(targetOf(done, devices[1]!)).toMatchObject({ state: 'rolled-back', errorCode: 'HUB_ERR_ROLLOUT_GATE_FAILED' });
    expect(targetOf(done, devices[1]!)!.reason).toMatch(/p95 latency 35 ms is 3.5× the previous version's 10 ms \(at most 3× allowed\)/);
    expect(targetOf(done, devices[0]!)).toMatchObject({ state: 'healthy' });
  });
});

describe('a shadow wave', () => {
  const champion18of20 = { inferences: 20, labelled: 20, championCorrect: 18 };

  it('that finds the challenger worse aborts before any device switches', async () => {
    const worse: DeviceScript = { shadow: { ...champion18of20, challengerCorrect: 14, agreements: 15 } };
    const { api, v2, devices, model } = await fleet([worse, worse, worse]);
    const created = await createRollout(api, {
      model: 'tiny', version: 2, waves: [{ devices: 2, shadow: { minInferences: 10, maxAccuracyDropPts: 5 } }, { percent: 100 }],
    });
    const aborted = await waitForRollout(api, created.id, (r) => r.state === 'aborted' && r.counts['rolling-back'] === 0, 'shadow wave aborted');
    expect(aborted).toMatchObject({ errorCode: 'HUB_ERR_ROLLOUT_SHADOW_WORSE' });
    expect(aborted.reason).toBe('wave 1 shadow: challenger 70 % vs champion 90 % on 40 labelled inferences: 20 points worse (at most 5 allowed)');
    expect(aborted.waves[0]).toMatchObject({
      state: 'aborted', shadowResult: { inferences: 40, labelled: 40, agreement: 30 / 40, championAccuracy: 0.9, challengerAccuracy: 0.7, verdict: 'worse' },
    });
    await Promise.all(devices.map((d) => d.settled()));
    for (const device of devices) {
      // No device was ever told to activate version 2; the shadows ended.
      expect(device.received.filter((c) => c.deploy && c.deploy.mode !== DeployMode.DEPLOY_MODE_SHADOW)).toEqual([]);
      expect(device.active).toBe(model.versionId);
      expect(device.shadow).toBe('');
    }
    const shadowed = devices.filter((d) => targetOf(aborted, d)!.wave === 1);
    for (const device of shadowed) expect(targetOf(aborted, device)).toMatchObject({ state: 'rolled-back', mode: 'shadow', changed: true });
    expect(shadowed.every((d) => d.received.some((c) => c.rollback?.fromVersionId === v2))).toBe(true);
    expect(targetOf(aborted, devices.find((d) => targetOf(aborted, d)!.wave === 2)!)).toMatchObject({ state: 'skipped', errorCode: 'HUB_ERR_ROLLOUT_ABORTED' });
  });

  it('that finds the challenger as good promotes it: the same wave then activates, and the rollout completes', async () => {
    const { api, v2, devices, clock } = await fleet([{ shadow: { ...champion18of20, challengerCorrect: 18 } }, { shadow: { ...champion18of20, challengerCorrect: 19 } }]);
    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ percent: 100, soakSec: 30, shadow: { minInferences: 20 } }] });
    // Enough inferences, but the shadow runs for the wave's soak time first.
    await waitForRollout(api, created.id, (r) => r.targets.every((t) => t.state === 'shadowing'), 'devices shadowing');
    await Promise.all(devices.map((d) => d.settled()));
    clock.advance(29_999);
    expect((await waitForRollout(api, created.id, () => true, 'rollout')).waves[0]!.state).toBe('shadowing');
    clock.advance(1);
    await waitForRollout(api, created.id, (r) => r.waves[0]!.state === 'soaking', 'activated, then soaking');
    clock.advance(30_000);
    const done = await waitForRollout(api, created.id, (r) => r.state === 'completed', 'rollout completed');
    expect(done.waves[0]).toMatchObject({ state: 'passed', shadowResult: { verdict: 'promoted', championAccuracy: 0.9, challengerAccuracy: 0.925 } });
    for (const device of devices) {
      expect(device.active).toBe(v2);
      expect(device.received.filter((c) => c.deploy).map((c) => c.deploy!.mode)).toEqual([DeployMode.DEPLOY_MODE_SHADOW, DeployMode.DEPLOY_MODE_ACTIVATE]);
      expect(targetOf(done, device)).toMatchObject({ state: 'healthy', mode: 'activate' });
    }
  });

  it('waits until each shadowing device reported minInferences', async () => {
    const { api, v2, devices, testHub } = await fleet([{ shadow: { inferences: 5, labelled: 5, championCorrect: 5, challengerCorrect: 5 } }]);
    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ percent: 100, shadow: { minInferences: 10 } }] });
    const [device] = devices;
    await waitForRollout(api, created.id, (r) => r.targets[0]!.state === 'shadowing', 'device shadowing');
    await device!.settled();
    expect((await waitForRollout(api, created.id, () => true, 'rollout')).waves[0]!.state).toBe('shadowing');
    const shadowCommand = device!.received.find((c) => c.deploy)!;
    await device!.reportShadow(shadowCommand.commandId, v2, { inferences: 12, agreements: 12, labelled: 12, championCorrect: 11, challengerCorrect: 11 });
    await waitForRollout(api, created.id, (r) => r.state === 'completed', 'rollout completed');
    await waitFor(() => testHub.hub.commands.owedTo(device!.deviceId).length === 0, 5000, 'nothing owed');
  });
});
