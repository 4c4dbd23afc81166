/**
 * The supersede rule (hub/docs/rollouts.md#supersede): a newer rollout of a model takes over the devices it targets;
 * the older rollout's unsettled targets on them are skipped and their commands cancelled, settled ones stay, and an
 * older rollout left with nothing unsettled ends `superseded`.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { addTinyVersion, createRollout, getRollout, scriptedDevice, targetOf, waitForRollout } from '../helpers/rollout-devices.js';
import { startRoundHub, waitFor } from '../rounds/round-helpers.js';

describe('a newer rollout of the same model', () => {
  it('supersedes an older one on the devices it targets', async () => {
    const setup = await startRoundHub({ clock: createManualClock() });
    const { api, model, testHub } = setup;
    const v2 = await addTinyVersion(testHub.hub, model.modelId, model.versionId);
    const v3 = await addTinyVersion(testHub.hub, model.modelId, v2);
    const devices = [];
    for (const name of ['a', 'b', 'c', 'd']) devices.push(await scriptedDevice(setup, name, model.modelId, { active: model.versionId }));
    await setup.online(devices.map((d) => d.deviceId));
    // The older rollout: its first wave soaks for an hour, so its second wave waits.
    const older = await createRollout(api, { model: 'tiny', version: 2, waves: [{ devices: 1, soakSec: 3600 }, { percent: 100 }] });
    await waitForRollout(api, older.id, (r) => r.waves[0]!.state === 'soaking', 'older wave 1 soaking');
    const first = devices.find((d) => targetOf(older, d)!.wave === 1)!;

    const newer = await createRollout(api, { model: 'tiny', version: 3, waves: [{ percent: 100 }] });
    const superseded = await getRollout(api, older.id);
    expect(superseded).toMatchObject({ state: 'superseded', errorCode: 'HUB_ERR_ROLLOUT_SUPERSEDED', reason: `superseded by ${newer.id}` });
    expect(superseded.finishedAt).not.toBeNull();
    for (const device of devices) {
      // The first wave's device had settled (healthy): it stays so. The others never got version 2.
      if (device === first) expect(targetOf(superseded, device)).toMatchObject({ state: 'healthy' });
      else expect(targetOf(superseded, device)).toMatchObject({ state: 'skipped', errorCode: 'HUB_ERR_ROLLOUT_SUPERSEDED', reason: `superseded by ${newer.id}` });
    }
    const done = await waitForRollout(api, newer.id, (r) => r.state === 'completed', 'newer rollout completed');
    expect(done.counts.healthy).toBe(4);
    for (const device of devices) expect(device.active).toBe(v3);
    expect(devices.filter((d) => d.received.some((c) => c.deploy?.model?.versionId === v2))).toEqual([first]);
  });

  it('cancels the older rollout\'s command in flight and leaves a device it does not target to the older one', async () => {
    const setup = await startRoundHub({ clock: createManualClock() });
    const { api, model, testHub } = setup;
    const v2 = await addTinyVersion(testHub.hub, model.modelId, model.versionId);
    const stuck = await scriptedDevice(setup, 'stuck', model.modelId, { active: model.versionId, script: { deploy: 'stuck' }, labels: { ring: '1' } });
    const other = await scriptedDevice(setup, 'other', model.modelId, { active: model.versionId, script: { deploy: 'stuck' }, labels: { ring: '2' } });
    await setup.online([stuck.deviceId, other.deviceId]);
    const older = await createRollout(api, { model: 'tiny', version: 2, waves: [{ percent: 100 }] });
    await waitForRollout(api, older.id, (r) => r.targets.every((t) => t.state === 'downloading'), 'both downloading');
    const olderCommand = stuck.received.find((c) => c.deploy)!.commandId;

    stuck.script = {};
    const newer = await createRollout(api, { model: 'tiny', version: 1, selector: 'ring=1', waves: [{ percent: 100 }] });
    const after = await getRollout(api, older.id);
    expect(after.state).toBe('running');
    expect(targetOf(after, stuck)).toMatchObject({ state: 'skipped', errorCode: 'HUB_ERR_ROLLOUT_SUPERSEDED', commandId: null });
    expect(targetOf(after, other)).toMatchObject({ state: 'downloading' });
    await waitFor(() => stuck.received.some((c) => c.cancel?.targetCommandId === olderCommand), 5000, 'older command cancelled');
    expect(testHub.hub.commands.owedTo(stuck.deviceId).map((c) => c.key)).not.toContain(older.id);
    await waitForRollout(api, newer.id, (r) => r.state === 'completed', 'newer completed');
  });
});
