/**
 * The closed loop (issue 11 item 4, hub/docs/loop.md): an `alert.opened` of a policy's rules on a device of its
 * group → when the trigger is met, the policy enabled, not cooling down and not already running → a federated
 * campaign on the group from the version it serves (the path of `POST /v1/rounds`) → once the campaign completed,
 * its version against the serving one on the group's held-out data → a canary rollout when better. Every action is
 * stored, audited (`loop.<kind>`) and announced (`loop.action`); a restarted hub picks up its runs in flight.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { HubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { DeviceRecord, DeviceRepo } from '../fleet/device-repo.js';
import { matchesSelector, parseSelector } from '../fleet/label-selector.js';
import type { Alerts } from '../health/alerts.js';
import type { AlertJson } from '../health/schemas.js';
import type { HubLogger } from '../logger.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { Quality } from '../quality/quality.js';
import type { QualitySource } from '../quality/quality-events.js';
import type { RolloutState } from '../rollouts/rollout-state.js';
import type { Rollouts } from '../rollouts/rollouts.js';
import type { RolloutRequest } from '../rollouts/rollout-request.js';
import type { CampaignRequest } from '../rounds/campaign-config.js';
import type { Coordinator } from '../rounds/coordinator.js';
import type { CampaignState } from '../rounds/round-state.js';
import type { Store } from '../store/store.js';
import { compareVersions, groupBaseline, type QualitySample } from './loop-compare.js';
import type { LoopPolicies } from './loop-policies.js';
import type { LoopPolicyRecord, LoopRepo, LoopRunRecord } from './loop-repo.js';
import type { LoopActionKind } from './loop-schemas.js';
import { LOOP_DEFAULTS } from './loop-schemas.js';
import { DAY_MS, judgeTrigger, rateLimited } from './loop-trigger.js';
import './loop-events.js';

/** device.quality samples older than this do not make the serving version's baseline. */
export const BASELINE_WINDOW_MS = 3_600_000;
/** Quality sources measured on a device's held-out data, as the campaign's federated evaluation is. */
const HELD_OUT_SOURCES: ReadonlySet<QualitySource> = new Set(['federated-eval', 'self-test']);


export interface LoopEngineDeps {
  repo: LoopRepo;
  policies: LoopPolicies;
  store: Pick<Store, 'transaction'>;
  registry: Pick<ModelRegistry, 'resolveVersion' | 'getVersion' | 'getModel'>;
  devices: Pick<DeviceRepo, 'get' | 'list'>;
  alerts: Pick<Alerts, 'listOpen'>;
  /** The devices' accuracy samples (device.quality), the serving version's baseline. */
  quality: Pick<Quality, 'deviceQuality'>;
  coordinator: Pick<Coordinator, 'checkQuantize' | 'startCampaign' | 'rounds'>;
  rollouts: Pick<Rollouts, 'create' | 'repo'>;
  audit: AuditLog;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
  /** Config `loopEnabled`: false = policies are stored but never act. */
  enabled: boolean;
}

const ENDED_ROLLOUT: ReadonlySet<RolloutState> = new Set(['completed', 'aborted', 'superseded']);

export class LoopEngine {
  private readonly unsubscribe: (() => void)[] = [];
  /** Policies starting a campaign and runs deciding on a canary (awaits in between): never twice at once. */
  private readonly busy = new Set<string>();
  private open = false;

  constructor(private readonly deps: LoopEngineDeps) {}

  /** Subscribes to alerts, quality, campaigns and rollouts, then picks up the runs a previous process left. */
  start(): void {
    const { events, enabled, log } = this.deps;
    if (!enabled) {
      log.info('closed loop switched off (loopEnabled=false): policies never act');
      return;
    }
    this.open = true;
    this.unsubscribe.push(
      events.on('alert.opened', ({ alert }) => this.spawn(() => this.onAlert(alert))),
      events.on('campaign.state', ({ campaignId, state }) => this.onCampaignState(campaignId, state)),
      events.on('rollout.state', ({ rolloutId, state, reason }) => this.onRolloutState(rolloutId, state, reason)),
    );
    for (const run of this.deps.repo.activeRuns()) this.pickUp(run);
  }

  close(): void {
    this.open = false;
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private spawn(task: () => Promise<void>): void {
    task().catch((error: unknown) => this.deps.log.error({ err: error }, 'loop task failed'));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Trigger → campaign

  private async onAlert(alert: AlertJson): Promise<void> {
    if (alert.deviceId === null) return;
    const device = this.deps.devices.get(alert.deviceId);
    if (!device) return;
    for (const policy of this.deps.repo.policies()) {
      if (!(policy.trigger.rules as readonly string[]).includes(alert.rule)) continue;
      if (!matchesSelector(parseSelector(policy.selector), device.labels)) continue;
      await this.maybeStart(policy.id);
    }
  }

  private async maybeStart(policyId: string): Promise<void> {
    if (this.busy.has(policyId)) return;
    this.busy.add(policyId);
    try {
      await this.tryStart(policyId);
    } finally {
      this.busy.delete(policyId);
    }
  }

  private async tryStart(policyId: string): Promise<void> {
    const { repo, clock, log } = this.deps;
    const policy = repo.policy(policyId);
    if (!this.open || !policy?.enabled) return;
    const group = this.deps.devices.list({ selector: parseSelector(policy.selector) }).devices;
    const groupIds = new Set(group.map((d) => d.id));
    const verdict = judgeTrigger(policy, groupIds, this.deps.alerts.listOpen());
    if (!verdict.met) return;
    const nowMs = clock.now();
    const limited = rateLimited(policy, nowMs, repo.lastStartMs(policyId), repo.startsSince(policyId, nowMs - DAY_MS));
    if (limited) {
      log.info({ policyId, why: limited }, 'loop trigger met, not acting');
      return;
    }
    const base = this.servingVersion(policy, group);
    const request = { ...policy.campaign, model: policy.modelId, baseVersion: base.id, selector: policy.selector } as CampaignRequest;
    const reason = `${verdict.alerts.length} open ${verdict.alerts.length === 1 ? 'alert' : 'alerts'} ` +
      `(${[...new Set(verdict.alerts.map((a) => a.rule))].sort().join(', ')}) on ${verdict.devices} of ${verdict.groupSize} devices; trigger: ${verdict.needed}`;
    const alertIds = verdict.alerts.map((a) => a.id);
    try {
      if (request.quantize) await this.deps.coordinator.checkQuantize(request);
      // One run of a policy at a time; checked after the await, where an alert that arrived meanwhile may have started one.
      if (!this.open || repo.activeRun(policyId)) return;
      const baseline = groupBaseline(this.latestSamples(group, base.id), groupIds, base.id, nowMs - BASELINE_WINDOW_MS);
      this.deps.store.transaction(() => {
        const campaign = this.deps.coordinator.startCampaign(request);
        this.deps.audit.record({ actor: 'hub', action: 'campaign.started', target: campaign.id, details: { ...request, loopPolicyId: policyId } });
        const runId = randomUUID();
        repo.insertRun({ id: runId, policyId, campaignId: campaign.id, baseVersionId: base.id, baselineAccuracy: baseline, nowMs });
        this.act(policyId, runId, 'campaign-started', reason, { campaignId: campaign.id, baseVersionId: base.id, alertIds, baselineAccuracy: baseline });
      });
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      // Counted like a start (loop-trigger.ts): a refused campaign is not asked for again at every alert.
      this.act(policyId, null, 'campaign-refused', `${reason}; refused: ${error.message}`, { code: error.code, alertIds });
    }
  }

  /**
   * Each group device's latest accuracy sample of `versionId` on its held-out data (hub/src/quality: a federated
   * evaluation or a self-test), if it has one. Feedback samples are left out: they measure the serving traffic —
   * drifted, when the loop runs — while the campaign's version is measured on held-out data.
   */
  private latestSamples(group: readonly DeviceRecord[], versionId: string): QualitySample[] {
    return group.flatMap((d) => {
      const all = this.deps.quality.deviceQuality(d.id).versions.find((v) => v.versionId === versionId)?.samples ?? [];
      const samples = all.filter((s) => HELD_OUT_SOURCES.has(s.source));
      const latest = samples.reduce<(typeof samples)[number] | undefined>((a, s) => (!a || s.at > a.at ? s : a), undefined);
      return latest ? [{ deviceId: d.id, versionId, accuracy: latest.accuracy, examples: latest.examples, atMs: Date.parse(latest.at) }] : [];
    });
  }

  /** The version most of the group's devices serve of the policy's model; the model's latest when none does. */
  private servingVersion(policy: LoopPolicyRecord, group: readonly DeviceRecord[]) {
    const counts = new Map<string, number>();
    for (const d of group) {
      if (d.activeModelId === policy.modelId && d.activeVersionId) counts.set(d.activeVersionId, (counts.get(d.activeVersionId) ?? 0) + 1);
    }
    const [top] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return top ? this.deps.registry.getVersion(top[0]) : this.deps.registry.resolveVersion(policy.modelId, 'latest');
  }

  // ---------------------------------------------------------------------------------------------------------
  // Campaign → comparison → canary

  private pickUp(run: LoopRunRecord): void {
    if (run.state === 'training') {
      const campaign = this.deps.coordinator.rounds.campaign(run.campaignId);
      if (campaign) this.onCampaignState(campaign.id, campaign.state);
      else this.finish(run, 'campaign-ended', 'the campaign no longer exists', { campaignId: run.campaignId });
    } else if (run.state === 'canary' && run.rolloutId) {
      const rollout = this.deps.rollouts.repo.rollout(run.rolloutId);
      if (rollout) this.onRolloutState(rollout.id, rollout.state, rollout.reason);
      else this.finish(run, 'canary-ended', 'the rollout no longer exists', { rolloutId: run.rolloutId });
    }
  }

  private runWhere(match: (run: LoopRunRecord) => boolean): LoopRunRecord | undefined {
    return this.deps.repo.activeRuns().find(match);
  }

  private onCampaignState(campaignId: string, state: CampaignState): void {
    if (!this.open || state === 'running') return;
    const run = this.runWhere((r) => r.state === 'training' && r.campaignId === campaignId);
    if (!run || this.busy.has(run.id)) return;
    if (state !== 'completed') {
      const campaign = this.deps.coordinator.rounds.campaign(campaignId);
      this.finish(run, 'campaign-ended', `the campaign ended ${state}${campaign?.error ? `: ${campaign.error}` : ''}`, { campaignId, state, code: campaign?.errorCode ?? null });
      return;
    }
    this.busy.add(run.id);
    this.spawn(() => this.judge(run).finally(() => this.busy.delete(run.id)));
  }

  private async judge(run: LoopRunRecord): Promise<void> {
    const { repo, coordinator, clock } = this.deps;
    const policy = repo.policy(run.policyId);
    const campaign = coordinator.rounds.campaign(run.campaignId);
    if (!policy || !campaign) return;
    if (!policy.enabled) {
      // Disabling a policy stops what it does next: the campaign's version is not compared or rolled out.
      this.finish(run, 'policy-disabled', 'the policy was disabled while its campaign trained: no comparison, no canary',
        { campaignId: campaign.id, newVersionId: campaign.currentVersionId });
      return;
    }
    const comparison = compareVersions(coordinator.rounds.roundsOf(campaign.id), run.baselineAccuracy, policy.minImprovementPoints);
    const facts = {
      campaignId: campaign.id, oldVersionId: run.baseVersionId, newVersionId: campaign.currentVersionId, oldAccuracy: comparison.oldAccuracy,
      newAccuracy: comparison.newAccuracy, baselineSource: comparison.baselineSource, gainPoints: comparison.gainPoints,
    };
    if (!comparison.better || campaign.currentVersionId === run.baseVersionId) {
      this.finish(run, 'no-improvement', comparison.reason, facts);
      return;
    }
    const request: RolloutRequest = {
      model: policy.modelId, version: campaign.currentVersionId, selector: policy.selector, waves: policy.canary.waves ?? defaultWaves(policy.canary.shadow),
      ...(policy.canary.gate ? { gate: policy.canary.gate } : {}),
    };
    try {
      const rollout = await this.deps.rollouts.create(request, 'hub');
      if (!this.open) return; // the hub closed meanwhile: the run is picked up again at the next start
      this.deps.store.transaction(() => {
        repo.moveRun(run.id, 'canary', clock.now(), rollout.id);
        this.act(policy.id, run.id, 'canary-started', comparison.reason, { ...facts, rolloutId: rollout.id });
      });
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      this.finish(run, 'canary-refused', `${comparison.reason}; rollout refused: ${error.message}`, { ...facts, code: error.code });
    }
  }

  private onRolloutState(rolloutId: string, state: RolloutState, reason: string | null): void {
    if (!this.open || !ENDED_ROLLOUT.has(state)) return;
    const run = this.runWhere((r) => r.state === 'canary' && r.rolloutId === rolloutId);
    if (run) this.finish(run, 'canary-ended', `the canary rollout ended ${state}${reason ? `: ${reason}` : ''}`, { rolloutId, state });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Actions

  private finish(run: LoopRunRecord, kind: LoopActionKind, reason: string, details: Record<string, unknown>): void {
    this.deps.store.transaction(() => {
      this.deps.repo.moveRun(run.id, 'finished', this.deps.clock.now());
      this.act(run.policyId, run.id, kind, reason, details);
    });
  }

  /** Stores, audits and (once committed) announces one action. */
  private act(policyId: string, runId: string | null, kind: LoopActionKind, reason: string, details: Record<string, unknown>): void {
    const { repo, audit, events, clock, log, policies } = this.deps;
    const atMs = clock.now();
    const action = repo.insertAction({ policyId, runId, kind, reason, details, atMs });
    audit.record({ actor: 'hub', action: `loop.${kind}`, target: policyId, details: { reason, runId, ...details } });
    log.info({ policyId, runId, kind, ...details }, `loop: ${reason}`);
    // After the enclosing transaction, if any, committed: queueMicrotask runs once this synchronous code returned.
    queueMicrotask(() => events.emit('loop.action', { policyId, action: policies.actionJson(action), at: new Date(atMs).toISOString() }));
  }
}

/** The default canary: a wave of 10 % of the group (shadowing first when `shadow`), then every device. */
export function defaultWaves(shadow: boolean): NonNullable<RolloutRequest['waves']> {
  const first = shadow
    ? { percent: LOOP_DEFAULTS.shadowWavePercent, shadow: { minInferences: LOOP_DEFAULTS.shadowMinInferences } }
    : { percent: LOOP_DEFAULTS.shadowWavePercent };
  return [first, { percent: 100 }];
}
