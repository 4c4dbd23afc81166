/**
 * Is the campaign's version better than the one the group serves (hub/docs/loop.md#comparison)? Both accuracies
 * are on the group's held-out data: the new one from the campaign's last federated evaluation, the old one from the
 * group's recent held-out device.quality samples of the serving version or, without any, the first round's evaluation of
 * the starting weights (each update's `accuracyBefore`, agent/src/ml/train.ts).
 */
import type { RoundRecord } from '../rounds/round-repo.js';

export interface QualitySample {
  deviceId: string;
  versionId: string;
  accuracy: number;
  examples: number;
  atMs: number;
}

export interface Comparison {
  better: boolean;
  oldAccuracy: number | null;
  newAccuracy: number | null;
  /** Where oldAccuracy came from: `device-quality` | `first-round` | null. */
  baselineSource: 'device-quality' | 'first-round' | null;
  gainPoints: number | null;
  reason: string;
}

/** Example-weighted mean of the latest sample of each group device for `versionId` taken since `sinceMs`; null if none. */
export function groupBaseline(samples: Iterable<QualitySample>, group: ReadonlySet<string>, versionId: string, sinceMs: number): number | null {
  let sum = 0;
  let weight = 0;
  for (const s of samples) {
    if (!group.has(s.deviceId) || s.versionId !== versionId || s.atMs < sinceMs || !Number.isFinite(s.accuracy)) continue;
    const w = Math.max(1, s.examples);
    sum += w * s.accuracy;
    weight += w;
  }
  return weight > 0 ? sum / weight : null;
}

/** Compares the campaign's final version (its rounds, oldest first) with the base version. */
export function compareVersions(rounds: readonly RoundRecord[], baseline: number | null, minImprovementPoints: number): Comparison {
  const committed = rounds.filter((r) => r.state === 'committed' && r.resultVersionId !== null);
  const last = committed.at(-1);
  const newAccuracy = last?.metrics.accuracy ?? null;
  const firstBefore = rounds.find((r) => r.number === 1)?.metrics.accuracyBeforeLocal;
  const [oldAccuracy, baselineSource] = baseline !== null
    ? [baseline, 'device-quality' as const]
    : firstBefore !== undefined && Number.isFinite(firstBefore) ? [firstBefore, 'first-round' as const] : [null, null];
  if (newAccuracy === null) return { better: false, oldAccuracy, newAccuracy, baselineSource, gainPoints: null, reason: 'the campaign has no federated evaluation of its version' };
  if (oldAccuracy === null) return { better: false, oldAccuracy, newAccuracy, baselineSource, gainPoints: null, reason: 'no accuracy of the serving version to compare with' };
  const gainPoints = (newAccuracy - oldAccuracy) * 100;
  const better = gainPoints > 0 && gainPoints >= minImprovementPoints;
  const verdict = better ? 'gains' : 'gains only';
  return {
    better, oldAccuracy, newAccuracy, baselineSource, gainPoints,
    reason: `${verdict} ${gainPoints.toFixed(2)} points (${(oldAccuracy * 100).toFixed(2)} % → ${(newAccuracy * 100).toFixed(2)} %), ` +
      `needs more than 0 and at least ${minImprovementPoints}`,
  };
}
