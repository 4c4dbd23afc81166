/**
 * Loop policies as a service: create, change, delete (each audited as `loop.policy.*`), list and show them with
 * what they run now, and their action history. A policy is checked whole before it is stored (DESIGN §9): its model,
 * selector, trigger, campaign (the checks of `POST /v1/rounds`) and canary waves (those of `POST /v1/rollouts`).
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { HubError } from '../errors.js';
import { parseSelector } from '../fleet/label-selector.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { rolloutConfigOf } from '../rollouts/rollout-request.js';
import type { CampaignRequest } from '../rounds/campaign-config.js';
import { checkCampaignRequest } from '../rounds/campaign-request.js';
import type { LoopActionRecord, LoopPolicyRecord, LoopRepo } from './loop-repo.js';
import type { LoopActionJson, LoopPolicyJson, LoopPolicyPatch, LoopPolicyRequest } from './loop-schemas.js';

export interface LoopPoliciesDeps {
  repo: LoopRepo;
  registry: Pick<ModelRegistry, 'getModel'>;
  audit: AuditLog;
  clock: Clock;
}

/** Most actions `GET /v1/loop-policies/:id/actions` returns by default. */
export const DEFAULT_ACTION_LIMIT = 100;

export type LoopPolicies = ReturnType<typeof createLoopPolicies>;

export function createLoopPolicies({ repo, registry, audit, clock }: LoopPoliciesDeps) {
  const iso = (ms: number) => new Date(ms).toISOString();

  function requirePolicy(id: string): LoopPolicyRecord {
    const policy = repo.policy(id);
    if (!policy) throw new HubError('HUB_ERR_LOOP_POLICY_NOT_FOUND', { message: `no loop policy ${JSON.stringify(id)}` });
    return policy;
  }

  /** Throws the HubError a policy that could never act gets; stores nothing. */
  function check(policy: LoopPolicyRecord): void {
    if (policy.trigger.minAlerts !== undefined && policy.trigger.minFraction !== undefined) {
      throw new HubError('HUB_ERR_LOOP_POLICY_BAD_REQUEST', { message: 'trigger takes minAlerts or minFraction, not both' });
    }
    parseSelector(policy.selector);
    checkCampaignRequest({ ...policy.campaign, model: policy.modelId, selector: policy.selector } as CampaignRequest);
    if (policy.canary.waves) rolloutConfigOf({ selector: policy.selector, waves: policy.canary.waves });
    const other = repo.policyByName(policy.name);
    if (other && other.id !== policy.id) throw new HubError('HUB_ERR_LOOP_POLICY_NAME_TAKEN', { message: `a loop policy is named ${JSON.stringify(policy.name)}` });
  }

  function toJson(policy: LoopPolicyRecord): LoopPolicyJson {
    const run = repo.activeRun(policy.id);
    return {
      id: policy.id, name: policy.name, selector: policy.selector, modelId: policy.modelId, trigger: policy.trigger,
      campaign: policy.campaign, canary: policy.canary, minImprovementPoints: policy.minImprovementPoints, cooldownSec: policy.cooldownSec,
      maxActionsPerDay: policy.maxActionsPerDay, enabled: policy.enabled,
      running: run ? { runId: run.id, state: run.state, campaignId: run.campaignId, rolloutId: run.rolloutId } : null,
      createdAt: iso(policy.createdAtMs), updatedAt: iso(policy.updatedAtMs),
    };
  }

  return {
    require: requirePolicy,
    toJson,
    actionJson: (a: LoopActionRecord): LoopActionJson => ({
      seq: a.seq, policyId: a.policyId, runId: a.runId, kind: a.kind, reason: a.reason, details: a.details, at: iso(a.atMs),
    }),

    create(request: LoopPolicyRequest, actor = 'admin'): LoopPolicyRecord {
      const nowMs = clock.now();
      const { model, ...fields } = request;
      const policy: LoopPolicyRecord = { ...fields, id: randomUUID(), modelId: registry.getModel(model).id, createdAtMs: nowMs, updatedAtMs: nowMs };
      check(policy);
      repo.savePolicy(policy);
      audit.record({ actor, action: 'loop.policy.created', target: policy.id, details: { ...request } });
      return policy;
    },

    update(id: string, patch: LoopPolicyPatch, actor = 'admin'): LoopPolicyRecord {
      const policy: LoopPolicyRecord = { ...requirePolicy(id), ...patch, updatedAtMs: clock.now() };
      check(policy);
      repo.savePolicy(policy);
      audit.record({ actor, action: 'loop.policy.updated', target: id, details: { ...patch } });
      return policy;
    },

    /** Deletes the policy and its history; a campaign or rollout it started runs on, no longer followed. */
    remove(id: string, actor = 'admin'): void {
      const policy = requirePolicy(id);
      repo.deletePolicy(id);
      audit.record({ actor, action: 'loop.policy.deleted', target: id, details: { name: policy.name } });
    },

    list: (): LoopPolicyRecord[] => repo.policies(),
    actions: (id: string, limit = DEFAULT_ACTION_LIMIT): LoopActionRecord[] => repo.actions(requirePolicy(id).id, limit),
  };
}
