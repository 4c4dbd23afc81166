/**
 * DeployModel carries the deadline the hub enforces (fleet.proto `deadline_at_ms`), so a device can give up on its
 * own instead of activating after the hub failed it: the deadline is the target's — sent at deviceTimeoutSec from
 * the send — and one command id keeps one deadline. A device away past it gets a new command with a fresh one.
 */
import { describe, expect, it } from 'vitest';
import { createRollout, getRollout, scriptedDevice, startRolloutHub, targetOf, waitForRollout } from '../helpers/rollout-devices.js';
import { waitFor } from '../rounds/round-helpers.js';

describe('the deadline of a DeployModel', () => {
  it('is the one the hub times the device out at', async () => {
    const setup = await startRolloutHub();
    const { api, model, clock } = setup;
    const stuck = await scriptedDevice(setup, 'stuck', model.modelId, { active: model.versionId, script: { deploy: 'stuck' } });
    await setup.online([stuck.deviceId]);
    const sentAtMs = clock.now();
    const created = await createRollout(api, { model: 'tiny', version: 2, deviceTimeoutSec: 30, waves: [{ percent: 100 }] });
    const downloading = await waitForRollout(api, created.id, (r) => targetOf(r, stuck)!.state === 'downloading', 'downloading');
    const deploy = stuck.received.find((c) => c.deploy)!;
    expect(Number(deploy.deploy!.deadlineAtMs)).toBe(sentAtMs + 30_000);
    expect(targetOf(downloading, stuck)!.commandId).toBe(deploy.commandId);

    clock.advance(29_999);
    expect(targetOf(await getRollout(api, created.id), stuck)!.state).toBe('downloading');
    clock.advance(1);
    await waitForRollout(api, created.id, (r) => targetOf(r, stuck)!.errorCode === 'HUB_ERR_ROLLOUT_DEVICE_TIMEOUT', 'timed out at the deadline');
  });

  it('is fresh, under a new command id, for a device that was away past it; the old command is cancelled', async () => {
    const setup = await startRolloutHub();
    const { api, model, clock, testHub } = setup;
    const away = await scriptedDevice(setup, 'away', model.modelId, { active: model.versionId, script: { deploy: 'stuck' } });
    await setup.online([away.deviceId]);
    const created = await createRollout(api, { model: 'tiny', version: 2, deviceTimeoutSec: 30, waves: [{ percent: 100 }] });
    await waitForRollout(api, created.id, (r) => targetOf(r, away)!.state === 'downloading', 'downloading');
    const first = away.received.find((c) => c.deploy)!;

    await away.settled(); // its replies acknowledged: nothing it sent is left hanging on the dropped connection
    away.raw.drop();
    await waitFor(() => !testHub.hub.fleet.presence.isOnline(away.deviceId), 5000, 'away offline');
    clock.advance(60_000); // past the first deadline while away: the hub does not time an offline device out
    expect(targetOf(await getRollout(api, created.id), away)!.state).toBe('downloading');

    const backAtMs = clock.now();
    await away.connect();
    const second = await waitFor(() => away.received.find((c) => c.deploy && c.commandId !== first.commandId), 5000, 'a new deploy');
    expect(Number(second.deploy!.deadlineAtMs)).toBe(backAtMs + 30_000);
    await waitFor(() => away.received.some((c) => c.cancel?.targetCommandId === first.commandId), 5000, 'cancel of the first deploy');
    // The old command is no longer owed: it is never re-sent with a deadline that has passed.
    expect(testHub.hub.commands.owedTo(away.deviceId).map((c) => c.command.commandId)).toEqual([second.commandId]);
    const view = await waitForRollout(api, created.id, (r) => targetOf(r, away)!.state === 'downloading' && targetOf(r, away)!.commandId === second.commandId, 'downloading again');
    expect(targetOf(view, away)).toMatchObject({ attempts: 2, deadlineAt: new Date(backAtMs + 30_000).toISOString() });
  });
});
