/**
 * The supersede rule (hub/docs/rollouts.md#supersede): a newer rollout of a model takes over each device it targets.
 * In every older rollout of that model, the device's target — if it has not settled (pending, downloading,
 * verifying, activated, shadowing) — becomes `skipped` (HUB_ERR_ROLLOUT_SUPERSEDED, "superseded by <id>") and the
 * command it waited on is settled and cancelled on the device. Settled targets stay as they are. An older rollout
 * that runs (or is paused) and has no unsettled target left ends `superseded`; a completed one stays completed but
 * never again targets a device a newer rollout of its model targets (continuous deployment included).
 */
import type { RolloutEngine } from './rollout-engine.js';
import type { RolloutRecord, RolloutRepo } from './rollout-repo.js';
import { isUnsettled } from './rollout-state.js';
import type { RolloutTransitions } from './rollout-transitions.js';

export interface SupersedeDeps {
  repo: RolloutRepo;
  transitions: RolloutTransitions;
  engine: Pick<RolloutEngine, 'dropCommand'>;
}

/** Whether `rollout` is older than `other` (created earlier; the store's order breaks ties). */
function isOlder(rollout: RolloutRecord, other: RolloutRecord, order: readonly RolloutRecord[]): boolean {
  return order.findIndex((r) => r.id === rollout.id) < order.findIndex((r) => r.id === other.id);
}

/** Applies the rule for `newer` on `deviceIds` (joins the caller's transaction). */
export function supersedeOlder(deps: SupersedeDeps, newer: RolloutRecord, deviceIds: ReadonlySet<string>): void {
  const { repo, transitions, engine } = deps;
  const ofModel = repo.ofModel(newer.modelId);
  for (const older of ofModel) {
    if (older.id === newer.id || !isOlder(older, newer, ofModel)) continue;
    if (older.state === 'aborted' || older.state === 'superseded') continue;
    const reason = `superseded by ${newer.id}`;
    let touched = false;
    for (const target of repo.targets(older.id)) {
      if (!deviceIds.has(target.deviceId) || !isUnsettled(target.state)) continue;
      engine.dropCommand(target, reason);
      transitions.moveTarget(target, 'skipped', {
        errorCode: 'HUB_ERR_ROLLOUT_SUPERSEDED', reason, commandId: null, deadlineAtMs: null, retryAtMs: null,
      });
      touched = true;
    }
    if (!touched || older.state === 'completed') continue;
    if (repo.targets(older.id).some((t) => isUnsettled(t.state))) continue;
    transitions.moveRollout(older.id, 'superseded', { failure: { code: 'HUB_ERR_ROLLOUT_SUPERSEDED', message: reason } });
  }
}

/** Whether a rollout of the same model newer than `rollout` targets the device (it owns the device now). */
export function newerOwns(repo: RolloutRepo, rollout: RolloutRecord, deviceId: string): boolean {
  const ofModel = repo.ofModel(rollout.modelId);
  return ofModel.some((other) => other.id !== rollout.id && isOlder(rollout, other, ofModel) && repo.target(other.id, deviceId) !== undefined);
}
