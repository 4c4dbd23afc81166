/**
 * The closed loop with raw devices and alerts raised as the health rules raise them (manual clock): the trigger
 * threshold, the campaign on the group from its serving version, no second campaign while one runs, the comparison
 * that starts a canary or not, the cooldown, a disabled policy and the global switch.
 */
import { describe, expect, it } from 'vitest';
import type { RolloutDetailJson } from '../../src/rollouts/schemas.js';
import { getCampaign, waitForCampaign } from '../rounds/round-helpers.js';
import { actionsOf, clearDrift, createPolicy, playRound, raiseDrift, settle, startLoopHub, waitForActions } from './loop-helpers.js';

describe('closed loop engine', () => {
  it('starts one campaign on the group once the trigger is met, from the version the group serves, and none while it runs', async () => {
    const { api, hub, group, outsider, model } = await startLoopHub();
    const policy = await createPolicy(api, { trigger: { minAlerts: 2 }, cooldownSec: 0 });
    const events: unknown[] = [];
    hub.events.on('loop.action', (e) => events.push(e));

    raiseDrift(hub, outsider); // not in the group
    raiseDrift(hub, group[0]!);
    raiseDrift(hub, group[0]!, 'cpu-pressure'); // not a rule of the policy
    await settle();
    expect(await actionsOf(api, policy.id)).toEqual([]);

    raiseDrift(hub, group[1]!, 'input-drift');
    const [started] = await waitForActions(api, policy.id, 1);
    expect(started).toMatchObject({ kind: 'campaign-started', details: { baseVersionId: model.versionId, alertIds: expect.any(Array) } });
    expect(started!.reason).toMatch(/2 open alerts \(accuracy-drift, input-drift\) on 2 of 2 devices/);
    const campaign = await getCampaign(api, started!.details.campaignId as string);
    expect(campaign).toMatchObject({ state: 'running', config: { selector: 'site=a', clients: 2 } });
    expect(events).toEqual([expect.objectContaining({ policyId: policy.id, action: expect.objectContaining({ kind: 'campaign-started' }) })]);
    const audit = await api<{ actor: string; target: string }[]>('GET', '/v1/audit?action=loop.campaign-started');
    expect(audit.body).toEqual([expect.objectContaining({ actor: 'hub', target: policy.id })]);

    // More alerts while the campaign runs: no second campaign.
    clearDrift(hub, group[0]!);
    raiseDrift(hub, group[0]!);
    await settle();
    expect(await actionsOf(api, policy.id)).toHaveLength(1);
    expect((await api<{ running: unknown }>('GET', `/v1/loop-policies/${policy.id}`)).body.running).toMatchObject({ state: 'training', campaignId: campaign.id });
  });

  it('starts a shadow canary of a better version, and records no-improvement for a worse one', async () => {
    const { api, hub, group } = await startLoopHub();
    const policy = await createPolicy(api);
    raiseDrift(hub, group[0]!);
    const [started] = await waitForActions(api, policy.id, 1);
    await playRound(group, { accuracyBefore: 0.6, accuracy: 0.8 });
    const [canary] = await waitForActions(api, policy.id, 2);
    expect(canary).toMatchObject({
      kind: 'canary-started',
      details: { oldAccuracy: expect.closeTo(0.6, 6), newAccuracy: expect.closeTo(0.8, 6), baselineSource: 'first-round', rolloutId: expect.any(String) },
    });
    const rollout = (await api<RolloutDetailJson>('GET', `/v1/rollouts/${canary!.details.rolloutId as string}`)).body;
    expect(rollout).toMatchObject({ selector: 'site=a', versionId: (await getCampaign(api, started!.details.campaignId as string)).currentVersionId });
    expect(rollout.waves.map((w) => ({ percent: w.percent, shadow: w.shadow ?? null }))).toEqual([
      { percent: 10, shadow: { minInferences: 100, maxAccuracyDropPts: expect.any(Number) } }, { percent: 100, shadow: null },
    ]);

    // The canary ends (aborted here): the run is over; the next trigger after the cooldown trains again — and loses.
    expect((await api('POST', `/v1/rollouts/${rollout.id}/abort`)).status).toBe(200);
    await waitForActions(api, policy.id, 3);
    expect((await actionsOf(api, policy.id))[0]).toMatchObject({ kind: 'canary-ended', details: { state: 'aborted' } });
  });

  it('compares strictly and with minImprovementPoints: equal or too small a gain is no improvement', async () => {
    const { api, hub, group, clock } = await startLoopHub();
    const policy = await createPolicy(api, { minImprovementPoints: 5 });
    raiseDrift(hub, group[0]!);
    const [started] = await waitForActions(api, policy.id, 1);
    await playRound(group, { accuracyBefore: 0.6, accuracy: 0.63 });
    await waitForCampaign(api, started!.details.campaignId as string, (c) => c.state === 'completed', 5000, 'campaign completed');
    const [verdict] = await waitForActions(api, policy.id, 2);
    expect(verdict).toMatchObject({ kind: 'no-improvement', details: { gainPoints: expect.closeTo(3, 3) } });
    expect((await api<unknown[]>('GET', '/v1/rollouts')).body).toEqual([]);
    expect((await api<{ running: unknown }>('GET', `/v1/loop-policies/${policy.id}`)).body.running).toBeNull();

    // The raw devices report no serving version: the next campaign starts from the model's latest (the one above),
    // whose baseline is now its held-out device.quality samples (its federated evaluation, 0.63; a later feedback
    // sample of the drifted traffic does not count). minImprovementPoints 0 still means strictly better: the same
    // accuracy is no improvement.
    expect((await api('PATCH', `/v1/loop-policies/${policy.id}`, { minImprovementPoints: 0, cooldownSec: 0 })).status).toBe(200);
    const v2 = (await getCampaign(api, started!.details.campaignId as string)).currentVersionId;
    clock.advance(1000);
    hub.quality.record({ deviceId: group[0]!.deviceId, versionId: v2, source: 'feedback', ref: null, accuracy: 0.1, examples: 500, atMs: clock.now() });
    clearDrift(hub, group[0]!);
    raiseDrift(hub, group[0]!);
    expect((await waitForActions(api, policy.id, 3))[0]!.details).toMatchObject({ baselineAccuracy: expect.closeTo(0.63, 6) });
    await playRound(group, { accuracyBefore: 0.2, accuracy: 0.63 });
    expect((await waitForActions(api, policy.id, 4))[0]).toMatchObject({ kind: 'no-improvement', details: { baselineSource: 'device-quality', gainPoints: 0 } });
    expect((await api<unknown[]>('GET', '/v1/rollouts')).body).toEqual([]);
  });

  it('cools down between campaigns and stops at maxActionsPerDay', async () => {
    const { api, hub, group, clock } = await startLoopHub();
    const policy = await createPolicy(api, { cooldownSec: 60, maxActionsPerDay: 2 });
    const failRound = async () => {
      const [started] = await actionsOf(api, policy.id);
      expect((await api('POST', `/v1/rounds/${started!.details.campaignId as string}/cancel`)).status).toBe(200);
    };
    raiseDrift(hub, group[0]!);
    await waitForActions(api, policy.id, 1);
    await failRound();
    await waitForActions(api, policy.id, 2);
    expect((await actionsOf(api, policy.id))[0]).toMatchObject({ kind: 'campaign-ended', details: { state: 'cancelled' } });

    clearDrift(hub, group[0]!);
    raiseDrift(hub, group[0]!); // within the cooldown
    await settle();
    expect(await actionsOf(api, policy.id)).toHaveLength(2);

    clock.advance(61_000);
    clearDrift(hub, group[0]!);
    raiseDrift(hub, group[0]!);
    await waitForActions(api, policy.id, 3);
    await failRound();
    await waitForActions(api, policy.id, 4);

    clock.advance(61_000); // out of the cooldown, but two campaigns in the last 24 h
    clearDrift(hub, group[0]!);
    raiseDrift(hub, group[0]!);
    await settle();
    expect((await actionsOf(api, policy.id)).map((a) => a.kind)).toEqual(['campaign-ended', 'campaign-started', 'campaign-ended', 'campaign-started']);
  });

  it('never acts for a disabled policy, nor for any policy when loopEnabled is false', async () => {
    const { api, hub, group } = await startLoopHub();
    const disabled = await createPolicy(api, { enabled: false });
    raiseDrift(hub, group[0]!);
    await settle();
    expect(await actionsOf(api, disabled.id)).toEqual([]);
    expect((await api<unknown[]>('GET', '/v1/rounds')).body).toEqual([]);

    const off = await startLoopHub({ config: { loopEnabled: false } });
    const policy = await createPolicy(off.api);
    raiseDrift(off.hub, off.group[0]!);
    raiseDrift(off.hub, off.group[1]!);
    await settle();
    expect(await actionsOf(off.api, policy.id)).toEqual([]);
    expect((await off.api<unknown[]>('GET', '/v1/rounds')).body).toEqual([]);
  });

  it('disabling a policy while its campaign trains stops the run before the canary', async () => {
    const { api, hub, group } = await startLoopHub();
    const policy = await createPolicy(api);
    raiseDrift(hub, group[0]!);
    const [started] = await waitForActions(api, policy.id, 1);
    expect((await api('PATCH', `/v1/loop-policies/${policy.id}`, { enabled: false })).status).toBe(200);
    await playRound(group, { accuracyBefore: 0.6, accuracy: 0.8 }); // better: an enabled policy would start a canary
    const [stopped] = await waitForActions(api, policy.id, 2);
    expect(stopped).toMatchObject({ kind: 'policy-disabled', details: { campaignId: started!.details.campaignId } });
    expect((await api<unknown[]>('GET', '/v1/rollouts')).body).toEqual([]);
    expect((await api<{ running: unknown }>('GET', `/v1/loop-policies/${policy.id}`)).body.running).toBeNull();
  });
});
