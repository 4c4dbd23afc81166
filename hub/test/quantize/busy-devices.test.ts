/**
 * "Busy" is one notion (fleet/device-holds.ts): a device a quantization job is calibrating on is not selected by a
 * round — one CPU told to calibrate and to train at once does both slowly, and a slow reply fails the round. A round
 * that needs that device waits for it (selection re-checks every second) and takes it once the job let it go.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { startCampaign, startRoundHub, waitFor, waitForCampaign } from '../rounds/round-helpers.js';
import { calibrateTask, finished, floatModelOf, importTwoLayerModel, partition, reportOf, sendReport, startQuantization } from './quantize-helpers.js';

async function calibratingOnX() {
  const clock = createManualClock();
  const setup = await startRoundHub({ clock });
  const { versionId } = await importTwoLayerModel(setup.api);
  const model = await floatModelOf(setup.testHub.hub, versionId);
  const x = await setup.enroll('x', { labels: { role: 'calibrator' } });
  const others = [await setup.enroll('a'), await setup.enroll('b')];
  await setup.online([x, ...others].map((d) => d.deviceId));
  const job = await startQuantization(setup.api, 'two-layer', 1, { calibrate: 'fleet', selector: 'role=calibrator', minDevices: 1, deadlineSec: 60 });
  const task = await calibrateTask(x, job.id);
  return { ...setup, clock, model, x, others, job, task };
}

describe('devices busy in a quantization job', () => {
  it('are not selected by a round that can do without them', async () => {
    const { api, x, others } = await calibratingOnX();
    const campaign = await startCampaign(api, { model: 'tiny', rounds: 1, clients: 3, overSelect: 1, minClients: 2, deadlineSec: 30, evaluate: false });
    const view = await waitForCampaign(api, campaign.id, (c) => c.rounds[0]?.state === 'training', 5000, 'training');
    const selected = view.rounds[0]!.participants.map((p) => p.deviceId);
    expect(selected).not.toContain(x.deviceId);
    expect(selected.sort()).toEqual(others.map((d) => d.deviceId).sort());
  });

  it('make a round that needs them wait until the job let them go', async () => {
    const { api, clock, model, x, job, task, testHub } = await calibratingOnX();
    const campaign = await startCampaign(api, {
      model: 'tiny', rounds: 1, clients: 3, overSelect: 1, minClients: 3, deadlineSec: 30, selectionTimeoutSec: 60, evaluate: false,
    });
    clock.advance(1000); // a selection retry while x still calibrates
    await waitFor(() => testHub.hub.coordinator.rounds.roundsOf(campaign.id)[0]?.state === 'selecting', 5000, 'selecting');
    expect((await waitForCampaign(api, campaign.id, () => true, 5000, 'view')).rounds[0]!.participants).toEqual([]);
    expect(x.commands.some((c) => c.train)).toBe(false);

    await sendReport(x, reportOf(model, task, partition(1, 5, 0, 1)));
    expect((await finished(api, job.id)).state).toBe('done');
    clock.advance(1000);
    const view = await waitForCampaign(api, campaign.id, (c) => c.rounds[0]?.state === 'training', 5000, 'training once x is free');
    expect(view.rounds[0]!.participants.map((p) => p.deviceId)).toContain(x.deviceId);
  });
});
