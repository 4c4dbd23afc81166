/**
 * The rollouts API: requests that cannot work are refused with a stable code and store nothing; pause stops new
 * commands (a wave that passes meanwhile does not start the next), resume goes on, abort rolls back every device the
 * rollout changed — each an audited operator action.
 */
import { describe, expect, it } from 'vitest';
import { addTinyVersion, createRollout, getRollout, scriptedDevice, startRolloutHub, targetOf, waitForRollout } from '../helpers/rollout-devices.js';
import { startRoundHub } from '../rounds/round-helpers.js';

type ErrorBody = { error: { code: string; message: string } };

describe('POST /v1/rollouts', () => {
  it('refuses what cannot work with a code, and stores nothing', async () => {
    const setup = await startRoundHub();
    const { api, model, testHub } = setup;
    await addTinyVersion(testHub.hub, model.modelId, model.versionId);
    await scriptedDevice(setup, 'd', model.modelId, { active: model.versionId });
    const refusals: [Record<string, unknown>, number, string, RegExp?][] = [
      [{ model: 'nope', version: 1 }, 404, 'HUB_ERR_MODEL_NOT_FOUND'],
      [{ model: 'tiny', version: 9 }, 404, 'HUB_ERR_VERSION_NOT_FOUND'],
      [{ model: 'tiny', version: 2, format: 'tflite' }, 409, 'HUB_ERR_NOT_QUANTIZED'],
      [{ model: 'tiny', version: 2, format: 'tflite', encoding: 'fp32' }, 400, 'HUB_ERR_VALIDATION'],
      [{ model: 'tiny', version: 2, waves: [{ percent: 50 }, { percent: 25 }] }, 400, 'HUB_ERR_ROLLOUT_BAD_REQUEST', /wave 2: percent 25 does not increase on 50/],
      [{ model: 'tiny', version: 2, waves: [{ devices: 5 }, { devices: 5 }] }, 400, 'HUB_ERR_ROLLOUT_BAD_REQUEST', /wave 2: devices 5 does not increase/],
      [{ model: 'tiny', version: 2, waves: [{ percent: 5, devices: 1 }] }, 400, 'HUB_ERR_ROLLOUT_BAD_REQUEST', /exactly one of percent and devices/],
      [{ model: 'tiny', version: 2, waves: [{ soakSec: 10 }] }, 400, 'HUB_ERR_ROLLOUT_BAD_REQUEST', /exactly one of percent and devices/],
      [{ model: 'tiny', version: 2, selector: 'site=a,,b' }, 400, 'HUB_ERR_BAD_SELECTOR'],
      [{ model: 'tiny', version: 2, waves: [] }, 400, 'HUB_ERR_VALIDATION'],
      [{ model: 'tiny', version: 2, waves: [{ percent: 0 }] }, 400, 'HUB_ERR_VALIDATION'],
      [{ model: 'tiny', version: 2, waves: [{ percent: 100, errorThreshold: 1.5 }] }, 400, 'HUB_ERR_VALIDATION'],
      [{ model: 'tiny', version: 2, gate: { maxLatencyFactor: 0.5 } }, 400, 'HUB_ERR_VALIDATION'],
      [{ model: 'tiny', version: 2, deviceTimeoutSec: 'Infinity' }, 400, 'HUB_ERR_VALIDATION'],
      [{ model: 'tiny', version: 2, deviceTimeoutSec: 0 }, 400, 'HUB_ERR_VALIDATION'],
      [{ model: 'tiny', version: 2, waves: [{ percent: 100, shadow: { minInferences: -1 } }] }, 400, 'HUB_ERR_VALIDATION'],
      [{ model: 'tiny', version: 2, extra: true }, 400, 'HUB_ERR_VALIDATION'],
      [{ model: 'tiny' }, 400, 'HUB_ERR_VALIDATION'],
    ];
    for (const [body, status, code, message] of refusals) {
      const response = await api<ErrorBody>('POST', '/v1/rollouts', body);
      expect([JSON.stringify(body), response.status, response.body.error?.code]).toEqual([JSON.stringify(body), status, code]);
      if (message) expect(response.body.error.message).toMatch(message);
    }
    expect((await api('GET', '/v1/rollouts')).body).toEqual([]);
    expect((await api<unknown[]>('GET', '/v1/audit?action=rollout.created')).body).toEqual([]);
    expect(testHub.hub.store.db.prepare('SELECT COUNT(*) AS n FROM rollout_targets').get()).toEqual({ n: 0 });
    expect((await api<ErrorBody>('GET', '/v1/rollouts/nope')).body.error.code).toBe('HUB_ERR_ROLLOUT_NOT_FOUND');
    expect((await api<ErrorBody>('POST', '/v1/rollouts/nope/pause')).body.error.code).toBe('HUB_ERR_ROLLOUT_NOT_FOUND');
  });

  it('fills in the defaults: tfjs-layers fp32, 5 % → 25 % → 100 %, gate 2 points and 2×, 300 s, continuous', async () => {
    const setup = await startRoundHub();
    const created = await createRollout(setup.api, { model: setup.model.modelId, version: 'latest' });
    expect(created).toMatchObject({
      format: 'tfjs-layers', encoding: 'fp32', selector: '', gate: { maxAccuracyDropPts: 2, maxLatencyFactor: 2 }, deviceTimeoutSec: 300, continuous: true,
    });
    expect(created.waves.map((w) => [w.percent, w.devices, w.successThreshold, w.errorThreshold, w.soakSec, w.shadow])).toEqual([
      [5, null, 0.9, 0.1, 0, null], [25, null, 0.9, 0.1, 0, null], [100, null, 0.9, 0.1, 0, null],
    ]);
    const listed = await setup.api<{ id: string }[]>('GET', '/v1/rollouts?state=completed');
    expect(listed.body.map((r) => r.id)).toEqual([created.id]);
  });
});

describe('pause, resume and abort', () => {
  it('pause holds the next wave back, resume continues, abort rolls every changed device back', async () => {
    const setup = await startRolloutHub();
    const { api, model, clock, v2 } = setup;
    const devices = [];
    for (const name of ['a', 'b', 'c']) devices.push(await scriptedDevice(setup, name, model.modelId, { active: model.versionId }));
    await setup.online(devices.map((d) => d.deviceId));
    const created = await createRollout(api, { model: 'tiny', version: 2, waves: [{ devices: 1, soakSec: 60 }, { percent: 100 }] });
    await waitForRollout(api, created.id, (r) => r.waves[0]!.state === 'soaking', 'wave 1 soaking');

    const paused = await api<{ state: string }>('POST', `/v1/rollouts/${created.id}/pause`);
    expect([paused.status, paused.body.state]).toEqual([200, 'paused']);
    expect((await api<ErrorBody>('POST', `/v1/rollouts/${created.id}/pause`)).body.error.code).toBe('HUB_ERR_ROLLOUT_STATE');
    clock.advance(60_000);
    const held = await waitForRollout(api, created.id, (r) => r.waves[0]!.state === 'passed', 'wave 1 passed while paused');
    expect(held).toMatchObject({ state: 'paused', currentWave: 1 });
    expect(held.waves[1]!.state).toBe('pending');
    const secondWave = devices.filter((d) => targetOf(held, d)!.wave === 2);
    for (const device of secondWave) expect(device.received).toEqual([]);

    expect((await api('POST', `/v1/rollouts/${created.id}/resume`, {})).status).toBe(200);
    await waitForRollout(api, created.id, (r) => r.state === 'completed', 'completed after resume');
    for (const device of devices) expect(device.active).toBe(v2);

    const aborted = await api<{ state: string; errorCode: string; reason: string }>('POST', `/v1/rollouts/${created.id}/abort`, { reason: 'found a bug' });
    expect(aborted.body).toMatchObject({ state: 'aborted', errorCode: 'HUB_ERR_ROLLOUT_ABORTED', reason: 'found a bug' });
    const rolledBack = await waitForRollout(api, created.id, (r) => r.counts['rolled-back'] === 3, 'every device rolled back');
    expect(rolledBack.finishedAt).not.toBeNull();
    await Promise.all(devices.map((d) => d.settled()));
    for (const device of devices) expect(device.active).toBe(model.versionId);
    expect((await api<ErrorBody>('POST', `/v1/rollouts/${created.id}/resume`)).body.error.code).toBe('HUB_ERR_ROLLOUT_STATE');
    expect((await getRollout(api, created.id)).state).toBe('aborted');

    const audit = (await api<{ action: string; actor: string }[]>('GET', `/v1/audit?target=${created.id}&limit=1000`)).body;
    const operator = audit.filter((e) => e.actor === 'admin').map((e) => e.action).reverse();
    expect(operator).toEqual(['rollout.created', 'rollout.state', 'rollout.paused', 'rollout.state', 'rollout.resumed', 'rollout.state', 'rollout.aborted']);
  });
});
