/**
 * A hub restarted mid-rollout continues it from the database: a soaking wave's timer is recomputed from its stored
 * end, a command a device had not answered is owed again and re-sent when the device reconnects, and a device that
 * was offline throughout still gets the version.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { addTinyVersion, createRollout, scriptedDevice, targetOf, waitForRollout, type ScriptedDevice } from '../helpers/rollout-devices.js';
import { startTestHub, tempDataDir } from '../helpers/test-hub.js';
import { startRoundHub, type Api } from '../rounds/round-helpers.js';

async function restart(dataDir: string, devices: ScriptedDevice[]) {
  const clock = createManualClock();
  const testHub = await startTestHub({ dataDir, clock });
  const api: Api = (method, url, body) => testHub.api(method, url, body);
  for (const device of devices) await device.connect(testHub.mqttUrl);
  return { testHub, api, clock };
}

describe('a hub restarted mid-rollout', () => {
  it('continues it: the soak timer from its stored end, owed commands re-sent, offline devices caught up', async () => {
    const dataDir = tempDataDir();
    const first = await startRoundHub({ dataDir, clock: createManualClock() });
    const { model } = first;
    const v2 = await addTinyVersion(first.testHub.hub, model.modelId, model.versionId);
    const online = [await scriptedDevice(first, 'a', model.modelId, { active: model.versionId }), await scriptedDevice(first, 'b', model.modelId, { active: model.versionId })];
    const away = await scriptedDevice(first, 'away', model.modelId, { active: model.versionId, connect: false });
    await first.online(online.map((d) => d.deviceId));
    const created = await createRollout(first.api, { model: 'tiny', version: 2, waves: [{ devices: 1, soakSec: 60 }, { percent: 100 }] });
    const soaking = await waitForRollout(first.api, created.id, (r) => r.waves[0]!.state === 'soaking', 'wave 1 soaking');
    const [early, late] = [online.find((d) => targetOf(soaking, d)!.wave === 1)!, online.find((d) => targetOf(soaking, d)!.wave === 2)!];
    // The wave-2 device will not finish its install before the next restart.
    late.script = { deploy: 'stuck' };
    for (const device of online) await device.disconnect();
    await first.testHub.hub.close();

    // Restart 1, during the soak: the wave's end is where it was stored.
    const second = await restart(dataDir, online);
    const resumed = await waitForRollout(second.api, created.id, () => true, 'rollout');
    expect(resumed).toMatchObject({ state: 'running', currentWave: 1 });
    expect(resumed.waves[0]).toMatchObject({ state: 'soaking', soakEndsAt: soaking.waves[0]!.soakEndsAt });
    second.clock.advance(59_999);
    expect((await waitForRollout(second.api, created.id, () => true, 'rollout')).waves[0]!.state).toBe('soaking');
    second.clock.advance(1);
    const inFlight = await waitForRollout(second.api, created.id, (r) => targetOf(r, late)!.state === 'downloading', 'wave 2 device downloading');
    const commandId = targetOf(inFlight, late)!.commandId!;
    expect(targetOf(inFlight, away)).toMatchObject({ state: 'pending', commandId: null });
    for (const device of online) await device.disconnect();
    await second.testHub.hub.close();

    // Restart 2, with a command out: the device (an agent that restarted too) is sent the same command again.
    late.script = {};
    late.forget();
    const third = await restart(dataDir, [...online, away]);
    const done = await waitForRollout(third.api, created.id, (r) => r.state === 'completed' && r.counts.healthy === 3, 'rollout completed');
    expect(late.received.filter((c) => c.deploy).map((c) => c.commandId)).toEqual([commandId, commandId]);
    expect(targetOf(done, late)).toMatchObject({ state: 'healthy', attempts: 1 });
    expect(targetOf(done, early)).toMatchObject({ state: 'healthy', attempts: 1 });
    for (const device of [...online, away]) expect(device.active).toBe(v2);
    for (const device of [...online, away]) expect(third.testHub.hub.commands.owedTo(device.deviceId)).toEqual([]);
  });
});
