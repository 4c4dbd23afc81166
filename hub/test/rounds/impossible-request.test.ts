/**
 * Defect "impossible requests fail late": a campaign the fleet matching its selector can never serve — fewer devices
 * that could ever take part (enrolled, not revoked, canTrain, the model fits their RAM) than minClients — is refused
 * at once with HUB_ERR_ROUND_IMPOSSIBLE, naming how many could of how many match, instead of waiting out its
 * selection timeout. Devices that are merely offline are still waited for; a selector no device matches yet is not
 * judged (the fleet may enroll later); a running campaign whose fleet shrinks below minClients fails at once.
 */
import { describe, expect, it } from 'vitest';
import type { HubEventMap } from '../../src/events/hub-events.js';
import type { CampaignJson } from '../../src/rounds/schemas.js';
import { BOARD, getCampaign, startCampaign, startRoundHub, tinyDelta, waitForCampaign } from './round-helpers.js';

interface ErrorBody { error: { code: string; message: string; details?: unknown } }

describe('impossible campaign requests', () => {
  it('refuses at once what the matching fleet can never serve, stores nothing, and waits for devices that are only offline', async () => {
    const { api, enroll } = await startRoundHub({ listen: false });
    // Three trainers, none of them connected, a device that cannot train and one whose RAM the model does not fit.
    const trainers = await Promise.all(['t-1', 't-2', 't-3'].map((name) => enroll(name, { labels: { site: 'lab' }, connect: false })));
    await enroll('sensor', { labels: { site: 'lab' }, connect: false, profile: { ...BOARD, kind: 'mcu', canTrain: false } });
    await enroll('tiny-ram', { labels: { site: 'lab' }, connect: false, profile: { ...BOARD, kind: 'mcu', ramBytes: 256 } });
    const count = async () => (await api<CampaignJson[]>('GET', '/v1/rounds')).body.length;
    const models = async () => (await api<unknown[]>('GET', '/v1/models')).body.length;
    const modelsBefore = await models();

    const refused = await api<ErrorBody>('POST', '/v1/rounds', { model: 'tiny', selector: 'site=lab', clients: 5, selectionTimeoutSec: 3600 });
    expect([refused.status, refused.body.error?.code, refused.body.error?.details]).toEqual([400, 'HUB_ERR_ROUND_IMPOSSIBLE', { matching: 5, capable: 3, needed: 4 }]);
    expect(refused.body.error.message).toMatch(/^3 of the 5 enrolled devices matching selector "site=lab" could ever take part .*; 4 needed per round$/);
    // A built-in architecture is not created for a request the fleet cannot serve.
    const builtin = await api<ErrorBody>('POST', '/v1/rounds', { model: 'mnist-2nn', clients: 4, minClients: 4 });
    expect([builtin.status, builtin.body.error?.code, builtin.body.error?.details]).toEqual([400, 'HUB_ERR_ROUND_IMPOSSIBLE', { matching: 5, capable: 3, needed: 4 }]);
    expect([await count(), await models()]).toEqual([0, modelsBefore]);
    expect((await api<unknown[]>('GET', '/v1/audit?action=campaign.started')).body).toEqual([]);

    // A selector no enrolled device matches yet: its devices may enroll after the campaign starts.
    const early = await startCampaign(api, { model: 'tiny', selector: 'site=later', clients: 2, selectionTimeoutSec: 3600 });
    expect(early.rounds.map((r) => r.state)).toEqual(['selecting']);

    // Enough devices could take part, they are only offline: the round waits for them.
    const waiting = await startCampaign(api, { model: 'tiny', selector: 'site=lab', clients: 3, minClients: 3, selectionTimeoutSec: 3600 });
    expect(waiting.rounds.map((r) => [r.state, r.errorCode])).toEqual([['selecting', null]]);
    // One of them is revoked: now the round can never be filled, and it says so at once.
    expect((await api('DELETE', `/v1/devices/${trainers[0]!.deviceId}`)).status).toBe(204);
    const failed = await waitForCampaign(api, waiting.id, (c) => c.state !== 'running', 5000, 'impossible once revoked');
    expect([failed.state, failed.errorCode, failed.rounds[0]!.errorCode]).toEqual(['failed', 'HUB_ERR_ROUND_IMPOSSIBLE', 'HUB_ERR_ROUND_IMPOSSIBLE']);
    expect(failed.rounds[0]!.error).toMatch(/^2 of the 4 enrolled devices matching selector "site=lab" could ever take part/);
    expect((await getCampaign(api, early.id)).state).toBe('running');
  });

  it('fails a later round at once when revocations left too few devices, with the code in the API and the events', async () => {
    const { api, enroll, online, testHub } = await startRoundHub();
    const devices = await Promise.all(['a', 'b', 'c'].map((name) => enroll(name)));
    await online(devices.map((d) => d.deviceId));
    const events: HubEventMap['round.state'][] = [];
    testHub.hub.events.on('round.state', (e) => events.push(e));
    const campaign = await startCampaign(api, {
      model: 'tiny', rounds: 2, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 30, evaluate: false, selectionTimeoutSec: 3600,
    });
    const view = await waitForCampaign(api, campaign.id, (c) => c.rounds[0]?.state === 'training', 5000, 'round 1 training');
    const selected = view.rounds[0]!.participants.map((p) => p.deviceId);
    const [first, second] = selected.map((id) => devices.find((d) => d.deviceId === id)!);
    const spare = devices.find((d) => !selected.includes(d.deviceId))!;

    // The spare device, then a participant once its update is in, are revoked: round 1 still commits, round 2 cannot start.
    expect((await api('DELETE', `/v1/devices/${spare.deviceId}`)).status).toBe(204);
    const tasks = [await first!.trainTask(), await second!.trainTask()];
    await first!.sendUpdate(first!.update(tasks[0]!, tinyDelta(0.01), 5));
    expect((await api('DELETE', `/v1/devices/${first!.deviceId}`)).status).toBe(204);
    await second!.sendUpdate(second!.update(tasks[1]!, tinyDelta(0.01), 5));

    const done = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 5000, 'campaign failed at round 2');
    expect(done.rounds.map((r) => [r.number, r.state, r.errorCode])).toEqual([[1, 'committed', null], [2, 'failed', 'HUB_ERR_ROUND_IMPOSSIBLE']]);
    expect([done.state, done.errorCode, done.roundsDone]).toEqual(['failed', 'HUB_ERR_ROUND_IMPOSSIBLE', 1]);
    expect(done.error).toMatch(/^round 2: 1 of the 1 enrolled devices could ever take part/);
    const listed = (await api<CampaignJson[]>('GET', '/v1/rounds')).body.find((c) => c.id === campaign.id)!;
    expect(listed.errorCode).toBe('HUB_ERR_ROUND_IMPOSSIBLE');
    expect(events.filter((e) => e.number === 2).map((e) => [e.state, e.errorCode])).toEqual([
      ['created', null], ['selecting', null], ['failed', 'HUB_ERR_ROUND_IMPOSSIBLE'],
    ]);
  });
});
