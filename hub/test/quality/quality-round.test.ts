import { describe, expect, it } from 'vitest';
import type { HubEventMap } from '../../src/events/hub-events.js';
import type { DeviceQualityJson } from '../../src/quality/quality.js';
import '../../src/quality/quality-events.js';
import { startCampaign, startRoundHub, tinyDelta, waitFor, waitForCampaign } from '../rounds/round-helpers.js';

describe('federated-eval accuracy from a round', () => {
  it("records each evaluating device's result for the committed version, once the round commits", async () => {
    const { api, model, enroll, online, testHub } = await startRoundHub();
    const quality: HubEventMap['device.quality'][] = [];
    testHub.hub.events.on('device.quality', (e) => quality.push(e));
    const devices = [await enroll('a'), await enroll('b')];
    await online(devices.map((d) => d.deviceId));
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 30, evalTimeoutSec: 30 });
    const tasks = await Promise.all(devices.map((d) => d.trainTask()));
    for (const [i, d] of devices.entries()) await d.sendUpdate(d.update(tasks[i]!, tinyDelta(0.01), 10));
    const roundId = tasks[0]!.roundId;
    const evals = await Promise.all(devices.map((d) => waitFor(() => d.commands.find((c) => c.eval?.roundId === roundId), 5000, 'eval task')));
    const accuracies = [0.75, 0.5];
    for (const [i, d] of devices.entries()) {
      const { commandId, eval: task } = evals[i]!;
      await d.publish('reply', { evalResult: { roundId, commandId, versionId: task!.model!.versionId, exampleCount: 40 + i, accuracy: accuracies[i], loss: 0.5 } });
    }
    const done = await waitForCampaign(api, campaign.id, (x) => x.state !== 'running', 5000, 'commit');
    const versionId = done.rounds[0]!.resultVersionId!;
    await waitFor(() => quality.length === 2, 5000, 'two samples');
    expect(quality.map(({ at: _at, ...e }) => e).sort((x, y) => y.accuracy - x.accuracy)).toEqual(devices.map((d, i) => ({
      deviceId: d.deviceId, modelId: model.modelId, versionId, source: 'federated-eval', accuracy: accuracies[i], examples: 40 + i, baseline: accuracies[i],
    })));
    const shown = (await api<DeviceQualityJson>('GET', `/v1/devices/${devices[1]!.deviceId}/quality`)).body;
    expect(shown.versions).toMatchObject([{ versionId, version: 2, baseline: { source: 'federated-eval', accuracy: 0.5 }, samples: [{ source: 'federated-eval', examples: 41 }] }]);
  });
});
