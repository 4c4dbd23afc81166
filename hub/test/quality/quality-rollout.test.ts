import { describe, expect, it } from 'vitest';
import type { HubEventMap } from '../../src/events/hub-events.js';
import type { DeviceQualityJson } from '../../src/quality/quality.js';
import '../../src/quality/quality-events.js';
import { createRollout, scriptedDevice, SELF_TEST_EXAMPLES, startRolloutHub, waitForRollout } from '../helpers/rollout-devices.js';
import { waitFor } from '../rounds/round-helpers.js';

describe('self-test accuracy from a rollout', () => {
  it("records each target's self-test once, and the replaced version's run on the same examples, as baselines on the device", async () => {
    const setup = await startRolloutHub();
    const { api, model, v2, testHub } = setup;
    const quality: HubEventMap['device.quality'][] = [];
    testHub.hub.events.on('device.quality', (e) => quality.push(e));
    const device = await scriptedDevice(setup, 'st-1', model.modelId, { active: model.versionId, script: { accuracy: 0.875, baselineAccuracy: 0.75 } });
    await setup.online([device.deviceId]);
    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ percent: 100 }] });
    await waitForRollout(api, created.id, (r) => r.state === 'completed', 'rollout completed');
    await waitFor(() => quality.length > 1, 5000, 'self-test samples');
    // The replaced version ran on the same examples (the gate's baseline): a self-test of v1 as well.
    expect(quality).toEqual([{
      deviceId: device.deviceId, modelId: model.modelId, versionId: model.versionId, source: 'self-test', accuracy: 0.75,
      examples: SELF_TEST_EXAMPLES, baseline: 0.75, at: expect.any(String),
    }, {
      deviceId: device.deviceId, modelId: model.modelId, versionId: v2, source: 'self-test', accuracy: 0.875,
      examples: SELF_TEST_EXAMPLES, baseline: 0.875, at: expect.any(String),
    }]);
    const shown = (await api<DeviceQualityJson>('GET', `/v1/devices/${device.deviceId}/quality`)).body;
    expect(shown.versions).toMatchObject([{
      versionId: model.versionId, version: 1, baseline: { source: 'self-test', accuracy: 0.75 },
      samples: [{ source: 'self-test', accuracy: 0.75, examples: SELF_TEST_EXAMPLES }],
    }, {
      versionId: v2, version: 2, baseline: { source: 'self-test', accuracy: 0.875 },
      samples: [{ source: 'self-test', accuracy: 0.875, examples: SELF_TEST_EXAMPLES }],
    }]);
    expect(shown.inputDrift).toBeNull();
  });
});
