/**
 * A rollout over scripted devices moves wave by wave: each wave's devices confirm they serve the new version and
 * pass the health gate before the next wave is sent anything, and the rollout completes with every device on it.
 */
import { describe, expect, it } from 'vitest';
import { DeployMode, verifyManifestSignature } from '@fedfleet/proto';
import { createManualClock } from '../../src/clock.js';
import { addTinyVersion, createRollout, scriptedDevice, targetOf, waitForRollout } from '../helpers/rollout-devices.js';
import { startRoundHub } from '../rounds/round-helpers.js';

describe('a rollout', () => {
  it('completes wave by wave: every wave confirmed and gated before the next one is sent anything', async () => {
    const setup = await startRoundHub({ clock: createManualClock() });
    const { api, testHub, model } = setup;
    const { hub } = testHub;
    const v2 = await addTinyVersion(hub, model.modelId, model.versionId);
    const devices = [];
    for (let i = 0; i < 6; i++) devices.push(await scriptedDevice(setup, `d${i}`, model.modelId, { active: model.versionId, labels: { site: 'a' } }));
    await setup.online(devices.map((d) => d.deviceId));
    const events: string[] = [];
    hub.events.onAny((name, payload) => {
      const p = payload as { wave?: number; state?: string };
      if (name === 'rollout.wave') events.push(`wave ${p.wave} ${p.state}`);
      if (name === 'rollout.state' || name === 'rollout.created') events.push(`${name} ${p.state ?? ''}`.trim());
    });

    const created = await createRollout(api, { model: 'tiny', version: 2, selector: 'site=a', waves: [{ devices: 1 }, { percent: 50 }, { percent: 100 }] });
    expect(created).toMatchObject({ versionId: v2, version: 2, format: 'tfjs-layers', encoding: 'fp32', continuous: true });
    expect(created.waves.map((w) => w.size)).toEqual([1, 2, 3]);
    const done = await waitForRollout(api, created.id, (r) => r.state === 'completed', 'rollout completed');

    expect(done.waves.map((w) => [w.state, w.healthy, w.failed])).toEqual([['passed', 1, 0], ['passed', 2, 0], ['passed', 3, 0]]);
    expect(done.counts).toMatchObject({ total: 6, healthy: 6 });
    expect(done.finishedAt).toBe(done.waves[2]!.finishedAt);
    for (const device of devices) {
      expect(device.active).toBe(v2);
      expect(device.previous).toBe(model.versionId);
      expect(targetOf(done, device)).toMatchObject({ state: 'healthy', verdict: 'healthy', changed: true, previousVersionId: model.versionId });
      expect(hub.commands.owedTo(device.deviceId)).toEqual([]);
    }
    expect(events).toEqual([
      'rollout.created', 'rollout.state running', 'wave 1 deploying', 'wave 1 passed', 'rollout.state running', 'wave 2 deploying', 'wave 2 passed',
      'rollout.state running', 'wave 3 deploying', 'wave 3 passed', 'rollout.state completed',
    ]);
    // Each device got one DeployModel: the signed manifest of version 2 and its payload, in ACTIVATE mode.
    const deploy = devices[0]!.received.find((c) => c.deploy)!.deploy!;
    const manifest = verifyManifestSignature(deploy.manifest!, deploy.signature!, hub.identity.publicKeyPem);
    expect(manifest).toMatchObject({ versionId: v2, version: 2, format: 'tfjs-layers', encoding: 'fp32' });
    expect(deploy).toMatchObject({ rolloutId: created.id, mode: DeployMode.DEPLOY_MODE_ACTIVATE, model: { versionId: v2, sha256: manifest.payload.sha256 } });
    expect(done.bundleSha256).toBe(manifest.payload.sha256);
    for (const device of devices) expect(device.received.filter((c) => c.deploy)).toHaveLength(1);
  });
});
