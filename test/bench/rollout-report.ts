/**
 * What bench:rollout reports from a settled rollout (GET /v1/rollouts/:id): per-wave figures, the devices that
 * counted as failed with the hub's code and reason, and the self-tests the devices reported — accuracy drops against
 * their baseline (split by whether the device holds the fault data) and p95 latency ratios per profile.
 */
import type { RolloutDetailJson, TargetJson } from '../../hub/src/rollouts/schemas.js';

export interface WaveFigures {
  wave: number;
  percent: number | null;
  devices: number;
  healthy: number;
  failed: number;
  /** Wave start → passed or aborted (soak included), hub timestamps. */
  seconds: number | null;
}

export function wavesOf(r: RolloutDetailJson): WaveFigures[] {
  return r.waves.map((w) => ({
    wave: w.number, percent: w.percent, devices: w.size, healthy: w.healthy, failed: w.failed,
    seconds: w.startedAt && w.finishedAt ? (Date.parse(w.finishedAt) - Date.parse(w.startedAt)) / 1000 : null,
  }));
}

/** Targets by the verdict they count as in their wave (a device failed by the gate ends `rolled-back`, verdict failed). */
export function verdicts(r: RolloutDetailJson, verdict: 'healthy' | 'failed'): number {
  return r.targets.filter((t) => t.verdict === verdict).length;
}

export function failuresOf(r: RolloutDetailJson): { device: string; errorCode: string | null; reason: string | null }[] {
  return r.targets.filter((t) => t.verdict === 'failed').map((t) => ({ device: t.deviceName ?? t.deviceId, errorCode: t.errorCode, reason: t.reason }));
}

type Reported = TargetJson & { selfTest: NonNullable<TargetJson['selfTest']>; baseline: NonNullable<TargetJson['baseline']> };

const round1 = (x: number): number => Number(x.toFixed(1));

export interface SelfTestFigures {
  /** Largest accuracy drop (points) among devices with their usual data, smallest among those with the fault data. */
  dropPts: { iidMax: number | null; faultDataMin: number | null };
  /** Self-test sizes reported. */
  examples: number[];
  /** Largest p95 latency ratio new / baseline, per profile. */
  p95RatioMax: Record<string, number>;
}

export function selfTestsOf(r: RolloutDetailJson, faultyNames: ReadonlySet<string>, profileOf: (name: string) => string): SelfTestFigures {
  const reported = r.targets.filter((t): t is Reported => Boolean(t.selfTest && t.baseline));
  const drop = (t: Reported) => 100 * (t.baseline.accuracy - t.selfTest.accuracy);
  const faulty = (t: Reported) => faultyNames.has(t.deviceName ?? '');
  const iid = reported.filter((t) => !faulty(t)).map(drop);
  const fault = reported.filter(faulty).map(drop);
  const p95RatioMax: Record<string, number> = {};
  for (const t of reported) {
    if (!(t.baseline.p95Ms > 0)) continue;
    const profile = profileOf(t.deviceName ?? '');
    p95RatioMax[profile] = round1(Math.max(p95RatioMax[profile] ?? 0, t.selfTest.p95Ms / t.baseline.p95Ms));
  }
  return {
    dropPts: { iidMax: iid.length ? round1(Math.max(...iid)) : null, faultDataMin: fault.length ? round1(Math.min(...fault)) : null },
    examples: [...new Set(reported.map((t) => t.selfTest.examples))].sort((a, b) => a - b),
    p95RatioMax,
  };
}
