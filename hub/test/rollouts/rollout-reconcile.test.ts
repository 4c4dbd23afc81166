/**
 * What a device's Status tells a rollout when replies were lost: it serves the version (a lost ACTIVATED report is
 * recovered, healthy with no self-test to compare), or it stopped serving it while its wave soaked (failed).
 */
import { describe, expect, it } from 'vitest';
import { createRollout, scriptedDevice, startRolloutHub, targetOf, waitForRollout } from '../helpers/rollout-devices.js';

describe('a rollout reconciled from Status', () => {
  it('recovers a lost ACTIVATED report: at once when the command ends DONE, else at the device timeout', async () => {
    const setup = await startRolloutHub();
    const { api, model, clock } = setup;
    const noReport = await scriptedDevice(setup, 'no-report', model.modelId, { active: model.versionId, script: { lose: ['activated'] } });
    const silent = await scriptedDevice(setup, 'silent', model.modelId, { active: model.versionId, script: { lose: ['activated', 'done'] } });
    await setup.online([noReport.deviceId, silent.deviceId]);
    const created = await createRollout(api, { model: 'tiny', version: 2, deviceTimeoutSec: 60, waves: [{ percent: 100 }] });

    const waiting = await waitForRollout(api, created.id, (r) => targetOf(r, noReport)!.state === 'healthy' && targetOf(r, silent)!.state === 'activated', 'one confirmed, one activated');
    expect(targetOf(waiting, noReport)).toMatchObject({ verdict: 'healthy', selfTest: null, reason: 'no self-test reported: confirmed serving, not compared' });
    expect(targetOf(waiting, silent)).toMatchObject({ verdict: null, changed: true, reason: 'serving the version (Status); awaiting its self-test report' });
    expect(waiting.state).toBe('running');
    clock.advance(60_000);
    const done = await waitForRollout(api, created.id, (r) => r.state === 'completed', 'completed');
    expect(targetOf(done, silent)).toMatchObject({ state: 'healthy', verdict: 'healthy', errorCode: null });
  });

  it('fails a device whose Status shows it stopped serving the version while its wave soaks', async () => {
    const setup = await startRolloutHub();
    const { api, model } = setup;
    const device = await scriptedDevice(setup, 'fickle', model.modelId, { active: model.versionId });
    await setup.online([device.deviceId]);
    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ percent: 100, soakSec: 600 }] });
    await waitForRollout(api, created.id, (r) => r.waves[0]!.state === 'soaking', 'soaking');
    // Someone put version 1 back by hand.
    device.active = model.versionId;
    await device.publishStatus();
    const aborted = await waitForRollout(api, created.id, (r) => r.state === 'aborted', 'aborted');
    expect(targetOf(aborted, device)).toMatchObject({ verdict: 'failed', errorCode: 'HUB_ERR_ROLLOUT_NOT_SERVING' });
    expect(targetOf(aborted, device)!.reason).toBe(`its Status shows ${model.versionId} serving, not the rollout's version`);
    expect(aborted.errorCode).toBe('HUB_ERR_ROLLOUT_ERROR_THRESHOLD');
  });
});
