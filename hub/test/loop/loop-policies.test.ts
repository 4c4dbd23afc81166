/** `/v1/loop-policies`: defaults, refusals that store nothing, PATCH, DELETE, the audit trail. */
import { describe, expect, it } from 'vitest';
import type { LoopPolicyJson } from '../../src/loop/loop-schemas.js';
import { startRoundHub } from '../rounds/round-helpers.js';
import { LOOP_CAMPAIGN } from './loop-helpers.js';

describe('loop policies API', () => {
  it('creates a policy with its defaults, changes and deletes it, each audited', async () => {
    const { api, model } = await startRoundHub();
    const created = await api<LoopPolicyJson>('POST', '/v1/loop-policies', { name: 'lab', model: 'tiny', campaign: { rounds: 2 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'lab', selector: '', modelId: model.modelId, trigger: { rules: ['accuracy-drift', 'input-drift'] },
      campaign: { rounds: 2, clients: 10, strategy: 'fedavg' }, canary: { shadow: true }, minImprovementPoints: 0, cooldownSec: 3600,
      maxActionsPerDay: 4, enabled: true, running: null,
    });
    const { id } = created.body;
    expect((await api<LoopPolicyJson[]>('GET', '/v1/loop-policies')).body.map((p) => p.id)).toEqual([id]);

    const patched = await api<LoopPolicyJson>('PATCH', `/v1/loop-policies/${id}`, { enabled: false, trigger: { minFraction: 0.5 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, trigger: { rules: ['accuracy-drift', 'input-drift'], minFraction: 0.5 }, campaign: { rounds: 2 }, cooldownSec: 3600 });
    expect((await api<LoopPolicyJson>('GET', `/v1/loop-policies/${id}`)).body.enabled).toBe(false);

    expect((await api('DELETE', `/v1/loop-policies/${id}`)).status).toBe(204);
    expect((await api<{ error: { code: string } }>('GET', `/v1/loop-policies/${id}`)).body.error.code).toBe('HUB_ERR_LOOP_POLICY_NOT_FOUND');
    expect((await api<{ error: { code: string } }>('GET', `/v1/loop-policies/${id}/actions`)).body.error.code).toBe('HUB_ERR_LOOP_POLICY_NOT_FOUND');
    const audit = (await api<{ action: string; target: string }[]>('GET', `/v1/audit?target=${id}`)).body.map((e) => e.action);
    expect(audit).toEqual(['loop.policy.deleted', 'loop.policy.updated', 'loop.policy.created']);
  });

  it('refuses, storing nothing, a policy that could never act', async () => {
    const { api } = await startRoundHub();
    const refused = async (body: Record<string, unknown>) => {
      const response = await api<{ error: { code: string } }>('POST', '/v1/loop-policies', { name: 'x', model: 'tiny', campaign: LOOP_CAMPAIGN, ...body });
      return [response.status, response.body.error?.code];
    };
    expect(await refused({ trigger: { minAlerts: 2, minFraction: 0.5 } })).toEqual([400, 'HUB_ERR_LOOP_POLICY_BAD_REQUEST']);
    expect(await refused({ model: 'nope' })).toEqual([404, 'HUB_ERR_MODEL_NOT_FOUND']);
    expect(await refused({ selector: 'site in (' })).toEqual([400, 'HUB_ERR_BAD_SELECTOR']);
    expect(await refused({ campaign: { ...LOOP_CAMPAIGN, minClients: 5 } })).toEqual([400, 'HUB_ERR_ROUND_BAD_CONFIG']);
    expect(await refused({ campaign: { ...LOOP_CAMPAIGN, strategy: 'nope' } })).toEqual([400, 'HUB_ERR_STRATEGY_UNKNOWN']);
    expect(await refused({ canary: { waves: [{ percent: 50 }, { percent: 20 }] } })).toEqual([400, 'HUB_ERR_ROLLOUT_BAD_REQUEST']);
    expect(await refused({ trigger: { rules: ['nope'] } })).toEqual([400, 'HUB_ERR_VALIDATION']);
    expect((await api<unknown[]>('GET', '/v1/loop-policies')).body).toEqual([]);

    expect(await refused({ name: 'taken' })).toEqual([201, undefined]);
    expect(await refused({ name: 'taken' })).toEqual([409, 'HUB_ERR_LOOP_POLICY_NAME_TAKEN']);
    const [only] = (await api<LoopPolicyJson[]>('GET', '/v1/loop-policies')).body;
    const patch = await api<{ error: { code: string } }>('PATCH', `/v1/loop-policies/${only!.id}`, { trigger: { minAlerts: 1, minFraction: 1 } });
    expect([patch.status, patch.body.error.code]).toEqual([400, 'HUB_ERR_LOOP_POLICY_BAD_REQUEST']);
    expect((await api<LoopPolicyJson>('GET', `/v1/loop-policies/${only!.id}`)).body.trigger).toEqual({ rules: ['accuracy-drift', 'input-drift'] });
    expect((await api('PATCH', `/v1/loop-policies/${only!.id}`, {})).status).toBe(400);
  });
});
