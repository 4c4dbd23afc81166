/** Loop policies, their runs (a campaign followed to its outcome) and their actions in SQLite (migration 015). */
import type { SqliteDatabase } from '../store/database.js';
import { jsonColumn } from '../store/row-values.js';
import type { LoopActionKind, LoopCampaign, LoopCanary, LoopRunState, LoopTrigger } from './loop-schemas.js';

export interface LoopPolicyRecord {
  id: string;
  name: string;
  selector: string;
  modelId: string;
  trigger: LoopTrigger;
  campaign: LoopCampaign;
  canary: LoopCanary;
  minImprovementPoints: number;
  cooldownSec: number;
  maxActionsPerDay: number;
  enabled: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface LoopRunRecord {
  id: string;
  policyId: string;
  campaignId: string;
  baseVersionId: string;
  /** The group's recent accuracy of the base version when the run started (device.quality); null = unknown then. */
  baselineAccuracy: number | null;
  rolloutId: string | null;
  state: LoopRunState;
  startedAtMs: number;
  updatedAtMs: number;
}

export interface LoopActionRecord {
  seq: number;
  policyId: string;
  runId: string | null;
  kind: LoopActionKind;
  reason: string;
  details: Record<string, unknown>;
  atMs: number;
}

interface PolicyRow {
  id: string; name: string; selector: string; model_id: string; trig: string; campaign: string; canary: string;
  min_improvement_points: number; cooldown_sec: number; max_actions_per_day: number; enabled: number; created_at_ms: number; updated_at_ms: number;
}
interface RunRow {
  id: string; policy_id: string; campaign_id: string; base_version_id: string; baseline_accuracy: number | null; rollout_id: string | null;
  state: LoopRunState; started_at_ms: number; updated_at_ms: number;
}
interface ActionRow { seq: number; policy_id: string; run_id: string | null; kind: LoopActionKind; reason: string; details: string; at_ms: number }

const toPolicy = (r: PolicyRow): LoopPolicyRecord => ({
  id: r.id, name: r.name, selector: r.selector, modelId: r.model_id,
  trigger: jsonColumn<LoopTrigger>(r.trig, 'trig', []) ?? { rules: [] },
  campaign: jsonColumn<LoopCampaign>(r.campaign, 'campaign', []) ?? ({} as LoopCampaign),
  canary: jsonColumn<LoopCanary>(r.canary, 'canary', []) ?? { shadow: true },
  minImprovementPoints: r.min_improvement_points, cooldownSec: r.cooldown_sec, maxActionsPerDay: r.max_actions_per_day,
  enabled: r.enabled === 1, createdAtMs: r.created_at_ms, updatedAtMs: r.updated_at_ms,
});
const toRun = (r: RunRow): LoopRunRecord => ({
  id: r.id, policyId: r.policy_id, campaignId: r.campaign_id, baseVersionId: r.base_version_id, baselineAccuracy: r.baseline_accuracy,
  rolloutId: r.rollout_id, state: r.state, startedAtMs: r.started_at_ms, updatedAtMs: r.updated_at_ms,
});
const toAction = (r: ActionRow): LoopActionRecord => ({
  seq: r.seq, policyId: r.policy_id, runId: r.run_id, kind: r.kind, reason: r.reason,
  details: jsonColumn<Record<string, unknown>>(r.details, 'details', []) ?? {}, atMs: r.at_ms,
});

export type LoopRepo = ReturnType<typeof createLoopRepo>;

export function createLoopRepo(db: SqliteDatabase) {
  const upsertPolicy = db.prepare(`INSERT INTO loop_policies (id, name, selector, model_id, trig, campaign, canary, min_improvement_points,
      cooldown_sec, max_actions_per_day, enabled, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, selector = excluded.selector, trig = excluded.trig, campaign = excluded.campaign,
      canary = excluded.canary, min_improvement_points = excluded.min_improvement_points, cooldown_sec = excluded.cooldown_sec,
      max_actions_per_day = excluded.max_actions_per_day, enabled = excluded.enabled, updated_at_ms = excluded.updated_at_ms`);
  const selectPolicy = db.prepare<[string], PolicyRow>('SELECT * FROM loop_policies WHERE id = ?');
  const selectPolicyByName = db.prepare<[string], PolicyRow>('SELECT * FROM loop_policies WHERE name = ?');
  const selectPolicies = db.prepare<[], PolicyRow>('SELECT * FROM loop_policies ORDER BY created_at_ms, id');
  const deletePolicy = db.prepare('DELETE FROM loop_policies WHERE id = ?');
  const insertRun = db.prepare(`INSERT INTO loop_runs (id, policy_id, campaign_id, base_version_id, baseline_accuracy, rollout_id, state,
      started_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, NULL, 'training', ?, ?)`);
  const updateRun = db.prepare('UPDATE loop_runs SET state = ?, rollout_id = COALESCE(?, rollout_id), updated_at_ms = ? WHERE id = ?');
  const selectActiveRuns = db.prepare<[], RunRow>("SELECT * FROM loop_runs WHERE state != 'finished' ORDER BY started_at_ms");
  const selectActiveRun = db.prepare<[string], RunRow>("SELECT * FROM loop_runs WHERE policy_id = ? AND state != 'finished' LIMIT 1");
  const insertAction = db.prepare('INSERT INTO loop_actions (policy_id, run_id, kind, reason, details, at_ms) VALUES (?, ?, ?, ?, ?, ?)');
  const selectAction = db.prepare<[number], ActionRow>('SELECT * FROM loop_actions WHERE seq = ?');
  const selectActions = db.prepare<[string, number], ActionRow>('SELECT * FROM loop_actions WHERE policy_id = ? ORDER BY seq DESC LIMIT ?');
  const selectStartsSince = db.prepare<[string, number], { count: number }>(
    "SELECT COUNT(*) AS count FROM loop_actions WHERE policy_id = ? AND kind IN ('campaign-started', 'campaign-refused') AND at_ms >= ?",
  );
  const selectLastStart = db.prepare<[string], { last: number | null }>(
    "SELECT MAX(at_ms) AS last FROM loop_actions WHERE policy_id = ? AND kind IN ('campaign-started', 'campaign-refused')",
  );

  return {
    savePolicy(p: LoopPolicyRecord): void {
      upsertPolicy.run(p.id, p.name, p.selector, p.modelId, JSON.stringify(p.trigger), JSON.stringify(p.campaign), JSON.stringify(p.canary),
        p.minImprovementPoints, p.cooldownSec, p.maxActionsPerDay, p.enabled ? 1 : 0, p.createdAtMs, p.updatedAtMs);
    },
    policy: (id: string): LoopPolicyRecord | undefined => {
      const row = selectPolicy.get(id);
      return row && toPolicy(row);
    },
    policyByName: (name: string): LoopPolicyRecord | undefined => {
      const row = selectPolicyByName.get(name);
      return row && toPolicy(row);
    },
    policies: (): LoopPolicyRecord[] => selectPolicies.all().map(toPolicy),
    deletePolicy: (id: string): boolean => deletePolicy.run(id).changes > 0,

    insertRun(run: { id: string; policyId: string; campaignId: string; baseVersionId: string; baselineAccuracy: number | null; nowMs: number }): void {
      insertRun.run(run.id, run.policyId, run.campaignId, run.baseVersionId, run.baselineAccuracy, run.nowMs, run.nowMs);
    },
    moveRun(id: string, state: LoopRunState, nowMs: number, rolloutId?: string): void {
      updateRun.run(state, rolloutId ?? null, nowMs, id);
    },
    activeRuns: (): LoopRunRecord[] => selectActiveRuns.all().map(toRun),
    activeRun: (policyId: string): LoopRunRecord | undefined => {
      const row = selectActiveRun.get(policyId);
      return row && toRun(row);
    },

    insertAction(a: Omit<LoopActionRecord, 'seq'>): LoopActionRecord {
      const { lastInsertRowid } = insertAction.run(a.policyId, a.runId, a.kind, a.reason, JSON.stringify(a.details), a.atMs);
      return toAction(selectAction.get(Number(lastInsertRowid))!);
    },
    /** Newest first. */
    actions: (policyId: string, limit: number): LoopActionRecord[] => selectActions.all(policyId, limit).map(toAction),
    /** Campaigns the policy started (or tried to) since `sinceMs`. */
    startsSince: (policyId: string, sinceMs: number): number => selectStartsSince.get(policyId, sinceMs)!.count,
    lastStartMs: (policyId: string): number | null => selectLastStart.get(policyId)!.last,
  };
}
