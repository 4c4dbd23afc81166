import { describe, expect, it } from 'vitest';
import type { HubEventMap } from '../../src/events/hub-events.js';
import type { DeviceQualityJson } from '../../src/quality/quality.js';
import '../../src/quality/quality-events.js';
import { createRollout, scriptedDevice, SELF_TEST_EXAMPLES, startRolloutHub, waitForRollout } from '../helpers/rollout-devices.js';
import { waitFor } from '../rounds/round-helpers.js';

describe('self-test accuracy from a rollout', () => {
  it("records each target's self-test once, as the version's baseline on the device", async () => {
    const setup = await startRolloutHub();
    const { api, model, v2, testHub } = setup;
    const quality: HubEventMap['device.quality'][] = [];
    testHub.hub.events.on('device.quality', (e) => quality.push(e));
    const device = await scriptedDevice(setup, 'st-1', model.modelId, { active: model.versionId, script: { accuracy: 0.875, baselineAccuracy: 0.875 } });
    await setup.online([device.deviceId]);
    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ percent: 100 }] });
    await waitForRollout(api, created.id, (r) => r.state === 'completed', 'rollout completed');
    await waitFor(() => quality.length > 0, 5000, 'self-test sample');
    expect(quality).toEqual([{
      deviceId: device.deviceId, modelId: model.modelId, versionId: v2, source: 'self-test', accuracy: 0.875,
      examples: SELF_TEST_EXAMPLES, baseline: 0.875, at: expect.any(String),
    }]);
    const shown = (await api<DeviceQualityJson>('GET', `/v1/devices/${device.deviceId}/quality`)).body;
    expect(shown.versions).toMatchObject([{
      versionId: v2, version: 2, baseline: { source: 'self-test', accuracy: 0.875 },
      samples: [{ source: 'self-test', accuracy: 0.875, examples: SELF_TEST_EXAMPLES }],
    }]);
    expect(shown.inputDrift).toBeNull();
  });
});
