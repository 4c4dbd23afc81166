/**
 * When a policy acts (hub/docs/loop.md#trigger): enough open alerts of its rules in its group (minAlerts), or a
 * share of the group's devices with one (minFraction); and the rate limits (cooldown, campaigns per 24 h) allow it.
 */
import type { AlertJson } from '../health/schemas.js';
import type { LoopPolicyRecord } from './loop-repo.js';
import { LOOP_DEFAULTS } from './loop-schemas.js';

export const DAY_MS = 86_400_000;

export interface TriggerVerdict {
  met: boolean;
  /** The open alerts that count: of the policy's rules, on a device of the group. */
  alerts: AlertJson[];
  /** Distinct devices among them. */
  devices: number;
  groupSize: number;
  /** What the trigger asked for, as text: `2 alerts`, `50 % of 4 devices`. */
  needed: string;
}

/** Judges the trigger on the open alerts of the group's devices (`group`: their ids). */
export function judgeTrigger(policy: LoopPolicyRecord, group: ReadonlySet<string>, openAlerts: readonly AlertJson[]): TriggerVerdict {
  const rules = new Set<string>(policy.trigger.rules);
  const alerts = openAlerts.filter((a) => a.state === 'open' && rules.has(a.rule) && a.deviceId !== null && group.has(a.deviceId));
  const devices = new Set(alerts.map((a) => a.deviceId)).size;
  const { minFraction } = policy.trigger;
  if (minFraction !== undefined) {
    const needed = `${Math.round(minFraction * 1000) / 10} % of ${group.size} devices`;
    return { met: group.size > 0 && devices / group.size >= minFraction, alerts, devices, groupSize: group.size, needed };
  }
  const minAlerts = policy.trigger.minAlerts ?? LOOP_DEFAULTS.minAlerts;
  return { met: alerts.length >= minAlerts, alerts, devices, groupSize: group.size, needed: `${minAlerts} alert${minAlerts === 1 ? '' : 's'}` };
}

/**
 * Why the policy may not start a campaign now (null: it may). Campaigns it tried to start count, refused ones
 * too, so a group whose campaign is refused is not asked again at every alert.
 */
export function rateLimited(policy: LoopPolicyRecord, nowMs: number, lastStartMs: number | null, startsLastDay: number): string | null {
  if (lastStartMs !== null && nowMs - lastStartMs < policy.cooldownSec * 1000) {
    return `cooling down until ${new Date(lastStartMs + policy.cooldownSec * 1000).toISOString()}`;
  }
  if (startsLastDay >= policy.maxActionsPerDay) return `${startsLastDay} campaigns in the last 24 h (maxActionsPerDay ${policy.maxActionsPerDay})`;
  return null;
}
