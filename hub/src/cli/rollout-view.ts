/** How `fedfleet rollouts ls|show|watch` print a rollout: its version, waves and per-device states with reasons. */
import type { RolloutDetailJson, RolloutJson, SelfTestJson, TargetCountsJson, TargetJson, WaveJson } from '../rollouts/schemas.js';
import { formatDurationSec } from './args.js';
import { formatAccuracy } from './campaign-progress.js';
import { println, type CliIo } from './io.js';
import { countOf, formatTable } from './table.js';

/** `digits@v3 (tflite int8)`: the version a rollout ships and its bundle's payload. */
export function rolloutVersion(r: Pick<RolloutJson, 'modelName' | 'version' | 'format' | 'encoding'>): string {
  return `${r.modelName}@v${r.version} (${r.format} ${r.encoding})`;
}

/** How far a wave reaches, as it was asked: `5%` or `10 devices`. */
export function waveReach(wave: Pick<WaveJson, 'percent' | 'devices'>): string {
  return wave.percent !== null ? `${wave.percent}%` : wave.devices !== null ? countOf(wave.devices, 'device') : '-';
}

/** Targets of `counts` that no longer owe an answer (the share of a wave's progress bar that is filled). */
export function settledOf(counts: TargetCountsJson): number {
  return counts.total - counts.pending - counts.downloading - counts.verifying - counts.activated - counts.shadowing;
}

/** `12 healthy, 1 failed, 1 rolled back, 2 skipped` (only the non-zero ones); `none settled`, or `no devices`. */
export function outcomeOf(counts: TargetCountsJson): string {
  const parts = [
    counts.healthy ? `${counts.healthy} healthy` : '',
    counts.failed ? `${counts.failed} failed` : '',
    counts['rolling-back'] ? `${counts['rolling-back']} rolling back` : '',
    counts['rolled-back'] ? `${counts['rolled-back']} rolled back` : '',
    counts.skipped ? `${counts.skipped} skipped` : '',
  ].filter(Boolean);
  return parts.join(', ') || (counts.total === 0 ? 'no devices' : 'none settled');
}

/** `HUB_ERR_…: why` (or just one of them); '' when there is neither. */
export function reasonOf(x: { errorCode: string | null; reason: string | null }): string {
  return [x.errorCode, x.reason].filter(Boolean).join(': ');
}

function selfTestText(test: SelfTestJson | null): string {
  return test ? `${formatAccuracy(test.accuracy)} p95 ${test.p95Ms.toFixed(1)} ms` : '-';
}

export function printRolloutList(io: CliIo, rollouts: readonly RolloutJson[]): void {
  if (rollouts.length === 0) return println(io.stdout, 'no rollouts');
  println(io.stdout, formatTable(
    ['ID', 'VERSION', 'SELECTOR', 'STATE', 'WAVE', 'DEVICES', 'HEALTHY', 'FAILED', 'ROLLED BACK', 'CREATED'],
    rollouts.map((r) => [r.id, rolloutVersion(r), r.selector || '(all)', r.state, `${r.currentWave}/${r.waves.length}`, r.counts.total,
      r.counts.healthy, r.counts.failed, r.counts['rolled-back'], r.createdAt]),
  ));
}

export function printRollout(io: CliIo, r: RolloutDetailJson): void {
  println(io.stdout, `rollout ${r.id}  ${rolloutVersion(r)}  ${r.state}  wave ${r.currentWave}/${r.waves.length}`);
  const reason = reasonOf(r);
  if (reason) println(io.stdout, `reason: ${reason}`);
  println(io.stdout, `selector ${r.selector || '(every device)'}  gate: accuracy drop ≤ ${r.gate.maxAccuracyDropPts} pts, p95 latency ≤ ${r.gate.maxLatencyFactor}×  ` +
    `device timeout ${formatDurationSec(r.deviceTimeoutSec)}  ${r.continuous ? 'continuous' : 'not continuous'}  bundle sha256 ${r.bundleSha256}`);
  println(io.stdout);
  println(io.stdout, formatTable(
    ['WAVE', 'REACH', 'STATE', 'DEVICES', 'HEALTHY', 'FAILED', 'ROLLED BACK', 'SKIPPED', 'SUCCESS ≥', 'ERROR ≤', 'SOAK', 'SHADOW'],
    r.waves.map((w) => [w.number, waveReach(w), w.state, w.size, w.healthy, w.failed, w.counts['rolled-back'], w.counts.skipped,
      w.successThreshold, w.errorThreshold, formatDurationSec(w.soakSec), w.shadow ? `${w.shadow.minInferences} inferences` : '-']),
  ));
  for (const w of r.waves) {
    const s = w.shadowResult;
    if (!s) continue;
    println(io.stdout, `wave ${w.number} shadow: ${s.inferences} inferences, agreement ${formatAccuracy(s.agreement)}, ${s.labelled} labelled: ` +
      `champion ${formatAccuracy(s.championAccuracy)}, challenger ${formatAccuracy(s.challengerAccuracy)} → ${s.verdict ?? 'running'}`);
  }
  println(io.stdout);
  if (r.targets.length === 0) return println(io.stdout, 'no target devices');
  println(io.stdout, formatTable(
    ['DEVICE', 'NAME', 'WAVE', 'MODE', 'STATE', 'SELF-TEST', 'BEFORE', 'REASON'],
    r.targets.map((t: TargetJson) => [t.deviceId, t.deviceName ?? '(revoked)', t.wave, t.mode, t.state, selfTestText(t.selfTest),
      selfTestText(t.baseline), reasonOf(t) || '-']),
  ));
}
