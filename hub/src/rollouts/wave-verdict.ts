/**
 * When a wave passes, waits or aborts its rollout (issue 10 item 4; hawkBit's success and error conditions,
 * Greengrass' abort criteria). Counted over the wave's targets that were sent the version (skipped ones are not):
 * - abort: failed / wave devices > errorThreshold — at any moment, a failure is final;
 * - wait: an online device has not answered yet (offline devices do not count until they answer and do not hold
 *   the wave up, unless no device answered at all);
 * - pass: healthy / answered ≥ successThreshold, where answered = healthy + failed (timed-out devices are failed);
 * - abort as well when every device answered and the wave stays below its success threshold: it never can pass.
 */
import type { WaveConfig } from './rollout-request.js';
import type { TargetRecord } from './rollout-repo.js';
import { isUnsettled } from './rollout-state.js';

export type WaveOutcome =
  | { kind: 'wait' }
  | { kind: 'pass'; healthy: number; answered: number }
  | { kind: 'abort'; code: 'HUB_ERR_ROLLOUT_ERROR_THRESHOLD' | 'HUB_ERR_ROLLOUT_SUCCESS_THRESHOLD'; reason: string };

const pct = (fraction: number) => `${Math.round(fraction * 1000) / 10} %`;

export function waveOutcome(
  wave: number, config: WaveConfig, targets: readonly TargetRecord[], isOnline: (deviceId: string) => boolean,
): WaveOutcome {
  const sent = targets.filter((t) => t.wave === wave && t.state !== 'skipped');
  const failed = sent.filter((t) => t.verdict === 'failed').length;
  const healthy = sent.filter((t) => t.verdict === 'healthy').length;
  if (sent.length > 0 && failed / sent.length > config.errorThreshold) {
    return {
      kind: 'abort', code: 'HUB_ERR_ROLLOUT_ERROR_THRESHOLD',
      reason: `wave ${wave}: ${failed} of ${sent.length} devices failed (${pct(failed / sent.length)}), above the error threshold of ${pct(config.errorThreshold)}`,
    };
  }
  const waiting = sent.filter((t) => t.verdict === null && isUnsettled(t.state));
  if (waiting.some((t) => isOnline(t.deviceId))) return { kind: 'wait' };
  const answered = healthy + failed;
  if (answered === 0) return waiting.length > 0 ? { kind: 'wait' } : { kind: 'pass', healthy, answered };
  if (healthy / answered >= config.successThreshold) return { kind: 'pass', healthy, answered };
  if (waiting.length > 0) return { kind: 'wait' };
  return {
    kind: 'abort', code: 'HUB_ERR_ROLLOUT_SUCCESS_THRESHOLD',
    reason: `wave ${wave}: ${healthy} of ${answered} devices healthy (${pct(healthy / answered)}), below the success threshold of ${pct(config.successThreshold)}`,
  };
}
