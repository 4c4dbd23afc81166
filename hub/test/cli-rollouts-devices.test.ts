/**
 * `fedfleet devices ls|show` name the version each device serves (issue 10 item 6) from the model store fields of
 * its Status (active_sha256, previous_version_id, shadow_version_id), kept by the hub across a restart.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceJson } from '../src/fleet/schemas.js';
import { runCli } from './helpers/cli.js';
import { connectDevice, enrollDevice, publishStatus, waitFor } from './helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from './helpers/test-hub.js';
import { tinyDelta } from './rounds/round-helpers.js';

const SHA = 'ab'.repeat(32);

/** A registry model `digits` with versions 1 and 2. */
async function digitsModel(testHub: TestHub): Promise<{ modelId: string; v1: string; v2: string }> {
  const registry = testHub.hub.models;
  const { model, version } = await registry.create({
    name: 'digits', architecture: 'imported', inputShape: [4], numClasses: 3, source: 'import',
    content: { topologyJson: JSON.stringify({ class_name: 'Sequential', config: { name: 'tiny', layers: [] } }), weights: tinyDelta(0, 0.5) },
  });
  const v2 = await registry.addRoundVersion({ modelId: model.id, parentVersionId: version.id, roundId: 'r1', weights: tinyDelta(1, 0.5) });
  return { modelId: model.id, v1: version.id, v2: v2!.id };
}

describe('devices ls|show: the serving version', () => {
  it('shows model@version, the payload sha256, the previous and the shadow version; kept across a hub restart', async () => {
    const testHub = await startTestHub();
    const env = { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
    const { modelId, v1, v2 } = await digitsModel(testHub);
    const upgraded = await enrollDevice(testHub, { name: 'upgraded' });
    const shadowing = await enrollDevice(testHub, { name: 'shadowing' });
    const foreign = await enrollDevice(testHub, { name: 'foreign' });
    await enrollDevice(testHub, { name: 'bare' });
    const statuses = [
      [upgraded, { activeModelId: modelId, activeVersionId: v2, activeSha256: SHA, previousVersionId: v1 }],
      [shadowing, { activeModelId: modelId, activeVersionId: v1, shadowVersionId: v2 }],
      [foreign, { activeModelId: 'm-elsewhere', activeVersionId: 'v-elsewhere' }],
    ] as const;
    for (const [device, status] of statuses) {
      const client = await connectDevice(testHub, device);
      await publishStatus(client, device.deviceId, status);
    }
    const device = async (id: string) => (await testHub.api<DeviceJson>('GET', `/v1/devices/${id}`)).body;
    await waitFor(async () => (await device(foreign.deviceId)).activeVersionId, 5000, 'statuses stored');
    await waitFor(async () => (await device(upgraded.deviceId)).activeSha256 && (await device(shadowing.deviceId)).shadowVersionId, 5000, 'statuses stored');

    const ls = await runCli(['devices', 'ls'], { env });
    expect(ls.code).toBe(0);
    const header = ls.stdout.split('\n')[0]!;
    const serving = (name: string) => {
      const line = ls.stdout.split('\n').find((l) => l.split(/\s{2,}/)[1] === name)!;
      return line.slice(header.indexOf('SERVING'), header.indexOf('LABELS')).trim();
    };
    expect([serving('upgraded'), serving('shadowing'), serving('foreign'), serving('bare')])
      .toEqual(['digits@v2', 'digits@v1 (shadow digits@v2)', 'v-elsewhere', '-']);

    const show = await runCli(['devices', 'show', upgraded.deviceId], { env });
    expect(show.stdout).toMatch(new RegExp(`^serving +digits@v2 \\(version ${v2}\\)$`, 'm'));
    expect(show.stdout).toMatch(new RegExp(`^payload sha256 +${SHA}$`, 'm'));
    expect(show.stdout).toMatch(new RegExp(`^previous +digits@v1 \\(version ${v1}\\)$`, 'm'));
    expect(show.stdout).toMatch(/^shadow +-$/m);

    const json = JSON.parse((await runCli(['devices', 'show', shadowing.deviceId, '--json'], { env })).stdout) as DeviceJson;
    expect(json).toMatchObject({
      activeModelId: modelId, activeVersionId: v1, activeSha256: null, previousVersionId: null, shadowVersionId: v2,
      registryVersions: { active: { model: 'digits', version: 1 }, previous: null, shadow: { model: 'digits', version: 2 } },
    });

    // The hub keeps what the devices reported (a rollout reconciles against it after a restart).
    await testHub.hub.close();
    const restarted = await startTestHub({ dataDir: testHub.dataDir });
    const after = (await restarted.api<DeviceJson>('GET', `/v1/devices/${upgraded.deviceId}`)).body;
    expect(after).toMatchObject({ activeVersionId: v2, activeSha256: SHA, previousVersionId: v1, shadowVersionId: null });
  });

  it('a Status without a shadow (the canary ended) clears it', async () => {
    const testHub = await startTestHub();
    const { modelId, v1, v2 } = await digitsModel(testHub);
    const device = await enrollDevice(testHub, { name: 'canary' });
    const client = await connectDevice(testHub, device);
    const get = async () => (await testHub.api<DeviceJson>('GET', `/v1/devices/${device.deviceId}`)).body;
    await publishStatus(client, device.deviceId, { activeModelId: modelId, activeVersionId: v1, shadowVersionId: v2 });
    await waitFor(async () => (await get()).shadowVersionId === v2, 5000, 'shadow stored');
    await publishStatus(client, device.deviceId, { activeModelId: modelId, activeVersionId: v1 });
    await waitFor(async () => (await get()).shadowVersionId === null, 5000, 'shadow cleared');
    expect((await get()).registryVersions).toEqual({ active: { model: 'digits', version: 1 }, previous: null, shadow: null });
  });
});
