/**
 * Rollouts and an imperfect fleet: a device offline when its wave starts does not hold the wave up and catches up
 * when it returns; a stuck online device times out (HUB_ERR_ROLLOUT_DEVICE_TIMEOUT) without blocking its rollout or
 * another; a busy device is asked again; a device that cannot run the bundle is skipped with the numbers; a device
 * that enrolls or is relabelled into a completed rollout's selector gets the version (continuous deployment).
 */
import { describe, expect, it } from 'vitest';
import { createRollout, getRollout, scriptedDevice, startRolloutHub, targetOf, waitForRollout } from '../helpers/rollout-devices.js';
import { importTinyModel, waitFor } from '../rounds/round-helpers.js';

describe('a rollout over an imperfect fleet', () => {
  it('lets an offline device catch up when it returns, without holding its wave up', async () => {
    const setup = await startRolloutHub();
    const { api, model, v2 } = setup;
    const online = [await scriptedDevice(setup, 'on-1', model.modelId, { active: model.versionId }), await scriptedDevice(setup, 'on-2', model.modelId, { active: model.versionId })];
    const away = await scriptedDevice(setup, 'away', model.modelId, { active: model.versionId, connect: false });
    await setup.online(online.map((d) => d.deviceId));

    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ devices: 1 }, { percent: 100 }] });
    // Online devices come first: the offline one is in the last wave.
    expect(targetOf(created, away)).toMatchObject({ wave: 2, state: 'pending' });
    const completed = await waitForRollout(api, created.id, (r) => r.state === 'completed', 'rollout completed without the offline device');
    expect(targetOf(completed, away)).toMatchObject({ state: 'pending', commandId: null, attempts: 0 });
    expect(completed.waves[1]).toMatchObject({ state: 'passed', healthy: 1, failed: 0, size: 2 });

    await away.connect();
    const caughtUp = await waitForRollout(api, created.id, (r) => targetOf(r, away)!.state === 'healthy', 'offline device caught up');
    expect(targetOf(caughtUp, away)).toMatchObject({ verdict: 'healthy', changed: true, attempts: 1 });
    expect(away.active).toBe(v2);
  });

  it('times a stuck online device out without blocking its rollout or another one', async () => {
    const setup = await startRolloutHub();
    const { api, model, clock, testHub } = setup;
    const other = await importTinyModel(api, 'other');
    const stuck = await scriptedDevice(setup, 'stuck', model.modelId, { active: model.versionId, script: { deploy: 'stuck' }, labels: { group: 'a' } });
    const fine = await scriptedDevice(setup, 'fine', model.modelId, { active: model.versionId, labels: { group: 'a' } });
    const elsewhere = await scriptedDevice(setup, 'elsewhere', other.modelId, { labels: { group: 'b' } });
    await setup.online([stuck.deviceId, fine.deviceId, elsewhere.deviceId]);

    const blocked = await createRollout(api, {
      model: 'tiny', version: 2, selector: 'group=a', deviceTimeoutSec: 30, waves: [{ percent: 100, errorThreshold: 0.5, successThreshold: 0.5 }],
    });
    await waitForRollout(api, blocked.id, (r) => targetOf(r, stuck)!.state === 'downloading' && targetOf(r, fine)!.state === 'healthy', 'stuck downloading');
    // Another rollout, of another model to other devices, is not held up by the stuck device.
    const independent = await createRollout(api, { model: 'other', version: 1, selector: 'group=b', waves: [{ percent: 100 }] });
    await waitForRollout(api, independent.id, (r) => r.state === 'completed', 'the other rollout completed');
    expect((await getRollout(api, blocked.id)).state).toBe('running');

    clock.advance(29_999);
    expect(targetOf(await getRollout(api, blocked.id), stuck)!.state).toBe('downloading');
    clock.advance(1);
    const done = await waitForRollout(api, blocked.id, (r) => r.state === 'completed', 'rollout completed after the timeout');
    expect(targetOf(done, stuck)).toMatchObject({ state: 'failed', verdict: 'failed', errorCode: 'HUB_ERR_ROLLOUT_DEVICE_TIMEOUT', reason: 'no answer within 30 s' });
    // The device is told to stop, and is owed nothing more.
    const deployId = stuck.received.find((c) => c.deploy)!.commandId;
    await waitFor(() => stuck.received.some((c) => c.cancel?.targetCommandId === deployId), 5000, 'cancel for the stuck device');
    expect(testHub.hub.commands.owedTo(stuck.deviceId)).toEqual([]);
  });

  it('asks a busy device again later instead of failing it', async () => {
    const setup = await startRolloutHub();
    const { api, model, clock, v2 } = setup;
    const busy = await scriptedDevice(setup, 'busy', model.modelId, { active: model.versionId, script: { deploy: { busy: 2 } } });
    await setup.online([busy.deviceId]);
    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ percent: 100 }] });
    await waitForRollout(api, created.id, (r) => r.targets[0]!.attempts === 1 && r.targets[0]!.commandId === null, 'first refusal');
    clock.advance(5_000);
    await waitForRollout(api, created.id, (r) => r.targets[0]!.attempts === 2 && r.targets[0]!.commandId === null, 'second refusal');
    clock.advance(10_000);
    const done = await waitForRollout(api, created.id, (r) => r.state === 'completed', 'completed on the third attempt');
    expect(done.targets[0]).toMatchObject({ state: 'healthy', attempts: 3, errorCode: null });
    expect(busy.active).toBe(v2);
  });

  it('skips a device whose profile cannot run the bundle, and counts one already serving the version as healthy', async () => {
    const setup = await startRolloutHub();
    const { api, model, v2 } = setup;
    const mcu = await scriptedDevice(setup, 'mcu', model.modelId, {
      profile: { kind: 'mcu-m4', ramBytes: 256 * 1024, flashBytes: 1024 * 1024, cpuMhz: 120, int8Only: true, canTrain: false, cores: 1, arch: 'armv7e-m' },
    });
    const current = await scriptedDevice(setup, 'current', model.modelId, { active: v2 });
    await setup.online([mcu.deviceId, current.deviceId]);
    const created = await createRollout(api, { model: 'tiny', version: 2 });
    expect(targetOf(created, mcu)).toMatchObject({ wave: 0, state: 'skipped', errorCode: 'HUB_ERR_ROLLOUT_PROFILE_MISMATCH' });
    expect(targetOf(created, mcu)!.reason).toMatch(/float model on an int8-only device/);
    expect(targetOf(created, current)).toMatchObject({ wave: 0, state: 'healthy', reason: 'already serving the version', changed: false });
    expect(created.waves.map((w) => w.size)).toEqual([0, 0, 0]);
    const done = await waitForRollout(api, created.id, (r) => r.state === 'completed', 'completed');
    expect(mcu.received).toEqual([]);
    expect(current.received).toEqual([]);
    expect(done.counts).toMatchObject({ total: 2, skipped: 1, healthy: 1 });
  });

  it('deploys to devices that enroll or are relabelled into a completed rollout\'s selector (continuous deployment)', async () => {
    const setup = await startRolloutHub();
    const { api, model, v2 } = setup;
    const created = await createRollout(api, { model: 'tiny', version: 2, selector: 'site=x' });
    expect(created.counts.total).toBe(0);
    await waitForRollout(api, created.id, (r) => r.state === 'completed', 'an empty rollout completes');

    const late = await scriptedDevice(setup, 'late', model.modelId, { active: model.versionId, labels: { site: 'x' } });
    const moved = await scriptedDevice(setup, 'moved', model.modelId, { active: model.versionId, labels: { site: 'y' } });
    const joined = await waitForRollout(api, created.id, (r) => targetOf(r, late)?.state === 'healthy', 'enrolled device deployed');
    expect(targetOf(joined, late)).toMatchObject({ wave: 3, reason: null, changed: true });
    expect(targetOf(joined, moved)).toBeUndefined();

    expect((await api('PATCH', `/v1/devices/${moved.deviceId}`, { labels: { set: { site: 'x' } } })).status).toBe(200);
    await waitForRollout(api, created.id, (r) => targetOf(r, moved)?.state === 'healthy', 'relabelled device deployed');
    expect([late.active, moved.active]).toEqual([v2, v2]);

    const noContinuous = await createRollout(api, { model: 'tiny', version: 1, selector: 'site=z', continuous: false });
    await waitForRollout(api, noContinuous.id, (r) => r.state === 'completed', 'completed');
    const z = await scriptedDevice(setup, 'z', model.modelId, { active: v2, labels: { site: 'z' } });
    await setup.online([z.deviceId]);
    expect(targetOf(await getRollout(api, noContinuous.id), z)).toBeUndefined();
  });
});
