/**
 * The health gate of a rollout (issue 10 item 4, DESIGN §5): a device's self-test of the new version against the
 * version it ran before, on the same held-out local examples — points of accuracy it may lose, the factor by which
 * its p95 latency may grow — and the shadow verdict of a wave (item 5): the challenger's labelled accuracy against
 * the champion's, pooled over the wave's devices.
 */
import type { GateConfig } from './rollout-request.js';
import type { SelfTestRecord, ShadowRecord } from './rollout-repo.js';
import type { ShadowResultJson } from './schemas.js';

export type GateVerdict = { ok: true; note: string | null } | { ok: false; reason: string };

const pts = (fraction: number) => Math.round(fraction * 10_000) / 100;

/**
 * Judges an activation. Without a self-test (recovered from a Status after a lost report) or without a baseline (the
 * device served nothing before) there is nothing to compare: the activation passes, and the note says so.
 */
export function healthGate(selfTest: SelfTestRecord | null, baseline: SelfTestRecord | null, gate: GateConfig): GateVerdict {
  if (!selfTest || selfTest.examples === 0) return { ok: true, note: 'no self-test reported: confirmed serving, not compared' };
  if (!baseline || baseline.examples === 0) return { ok: true, note: 'no previous version to compare with' };
  const problems: string[] = [];
  const dropPts = pts(baseline.accuracy - selfTest.accuracy);
  if (dropPts > gate.maxAccuracyDropPts) {
    problems.push(`self-test accuracy ${pts(selfTest.accuracy)} % is ${dropPts} points below the previous version's ${pts(baseline.accuracy)} % `
      + `(at most ${gate.maxAccuracyDropPts} allowed)`);
  }
  if (baseline.p95Ms > 0 && selfTest.p95Ms / baseline.p95Ms > gate.maxLatencyFactor) {
    const factor = Math.round((selfTest.p95Ms / baseline.p95Ms) * 100) / 100;
    problems.push(`p95 latency ${selfTest.p95Ms} ms is ${factor}× the previous version's ${baseline.p95Ms} ms (at most ${gate.maxLatencyFactor}× allowed)`);
  }
  return problems.length > 0 ? { ok: false, reason: problems.join('; ') } : { ok: true, note: null };
}

/** The pooled shadow counts of a wave's devices; `verdict` stays null (the caller decides when the wave is judged). */
export function pooledShadow(stats: readonly (ShadowRecord | null)[]): ShadowResultJson {
  const sum = { inferences: 0, agreements: 0, labelled: 0, championCorrect: 0, challengerCorrect: 0 };
  for (const s of stats) {
    if (!s) continue;
    sum.inferences += s.inferences;
    sum.agreements += s.agreements;
    sum.labelled += s.labelled;
    sum.championCorrect += s.championCorrect;
    sum.challengerCorrect += s.challengerCorrect;
  }
  const champion = sum.labelled > 0 ? sum.championCorrect / sum.labelled : null;
  const challenger = sum.labelled > 0 ? sum.challengerCorrect / sum.labelled : null;
  return {
    inferences: sum.inferences, labelled: sum.labelled,
    agreement: sum.inferences > 0 ? sum.agreements / sum.inferences : null,
    championAccuracy: champion, challengerAccuracy: challenger,
    dropPts: champion !== null && challenger !== null ? pts(champion - challenger) : null,
    verdict: null,
  };
}

/**
 * Whether the challenger may be promoted: it loses at most `maxAccuracyDropPts` points of labelled accuracy. With no
 * labelled inference there is no accuracy to compare; the challenger is promoted on the devices' self-tests alone
 * (each activation still passes the health gate), and the reason says so.
 */
export function shadowVerdict(result: ShadowResultJson, maxAccuracyDropPts: number): { promote: boolean; reason: string } {
  if (result.dropPts === null) return { promote: true, reason: `no labelled inferences in ${result.inferences}: accuracy not compared` };
  const summary = `challenger ${pts(result.challengerAccuracy!)} % vs champion ${pts(result.championAccuracy!)} % on ${result.labelled} labelled inferences`;
  return result.dropPts > maxAccuracyDropPts
    ? { promote: false, reason: `${summary}: ${result.dropPts} points worse (at most ${maxAccuracyDropPts} allowed)` }
    : { promote: true, reason: summary };
}
