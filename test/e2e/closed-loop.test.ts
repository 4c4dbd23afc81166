/**
 * Issue 11 item 4 (closed loop), end to end over real simulated devices (firmware-sim SimFleet, Raspberry Pi 4
 * profile, the built-in 2NN on MNIST): the devices serve version 2; their serving traffic drifts (firmware-sim's
 * drift API, `invert`); the hub measures the input drift (hub/src/quality), opens drift alerts (hub/src/health); the
 * loop policy of the group starts a federated campaign from version 2, which commits a version that beats version 2 on
 * the group's data, and a shadow canary rollout of it starts (hub/docs/loop.md).
 */
import { describe, expect, it } from 'vitest';
import { SIM_PROFILES } from '@fedfleet/firmware-sim';
import type { LoopActionJson, LoopPolicyJson } from '../../hub/src/loop/loop-schemas.js';
import type { RolloutDetailJson } from '../../hub/src/rollouts/schemas.js';
import { MODEL, servingHub, startFleet } from '../../firmware-sim/test/sim-serving-helpers.js';
import { waitFor } from './helpers/agent-harness.js';
import { completed, int8Rollout, rollOut } from './helpers/rollout-sim.js';

const PI = SIM_PROFILES['rpi4']!;
const DEVICES = 3;
/** Alerts, a campaign of one round and a canary: each is seconds with these devices. */
const LOOP_TIMEOUT_MS = 40_000;

describe('closed loop over simulated devices', () => {
  it('drift → alerts → a federated campaign on the group → a better version → a shadow canary of it', async () => {
    // One drift measure and one feedback sample per device and second (default: a minute), so alerts come at once.
    const hub = await servingHub(1, { config: { qualityIntervalSec: 1 } });
    const { testHub } = hub;
    const fleet = await startFleet(testHub, PI, DEVICES, { labels: { site: 'lab' }, inferencesPerHeartbeat: 100 });
    await rollOut(testHub, int8Rollout(2, { selector: 'site=lab', waves: [{ percent: 100 }] }), completed, 'every device on version 2');

    const created = await testHub.api<LoopPolicyJson>('POST', '/v1/loop-policies', {
      name: 'lab', model: MODEL, selector: 'site=lab', cooldownSec: 3600,
      campaign: { rounds: 1, clients: DEVICES, minClients: DEVICES, overSelect: 1, epochs: 1, maxExamples: 600, deadlineSec: 60, evalTimeoutSec: 60 },
    });
    expect(created.status).toBe(201);
    const policyId = created.body.id;
    const actions = async () => (await testHub.api<{ actions: LoopActionJson[] }>('GET', `/v1/loop-policies/${policyId}/actions`)).body.actions;
    expect(await actions()).toEqual([]); // no drift yet, no alert, nothing done

    fleet.setDrift('all', 'invert');
    const started = await waitFor(async () => (await actions()).find((a) => a.kind === 'campaign-started'), LOOP_TIMEOUT_MS, 'the loop starts a campaign')
      .catch(async (error: unknown) => {
        const alerts = (await testHub.api('GET', '/v1/alerts')).body;
        const quality = await Promise.all(fleet.devices.map(async (d) => (await testHub.api('GET', `/v1/devices/${d.agent.deviceId!}/quality`)).body));
        throw new Error(`${(error as Error).message}; actions ${JSON.stringify(await actions())}; alerts ${JSON.stringify(alerts)}; quality ${JSON.stringify(quality)}`);
      });
    console.log(`loop: ${started.reason}`);
    expect(started.details).toMatchObject({ baseVersionId: hub.versions[1] });
    const open = await testHub.api<{ alerts: { rule: string; deviceId: string }[] }>('GET', '/v1/alerts?state=open');
    expect(open.body.alerts.some((a) => a.rule === 'input-drift' || a.rule === 'accuracy-drift')).toBe(true);

    const verdict = await waitFor(async () => (await actions()).find((a) => a.kind !== 'campaign-started'), LOOP_TIMEOUT_MS, 'the campaign is judged');
    console.log(`loop: ${verdict.kind}: ${verdict.reason}`);
    expect(verdict).toMatchObject({ kind: 'canary-started', details: { campaignId: started.details.campaignId, oldVersionId: hub.versions[1] } });
    const rollout = (await testHub.api<RolloutDetailJson>('GET', `/v1/rollouts/${verdict.details.rolloutId as string}`)).body;
    expect(rollout).toMatchObject({ selector: 'site=lab', versionId: verdict.details.newVersionId });
    expect(rollout.waves[0]).toMatchObject({ percent: 10, shadow: { minInferences: 100 } });
    expect(rollout.targets).toHaveLength(DEVICES);
  }, 90_000);
});
