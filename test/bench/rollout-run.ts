/**
 * One rollout of bench:rollout, through the API: POST /v1/rollouts, then GET /v1/rollouts/:id until the rollout
 * ended and every target settled (an abort's rollbacks confirmed), with progress on stderr. Bytes are the payload
 * bytes the hub sent on `chunk` topics for the rollout's bundle (its transfer meter, filtered by the payload's
 * sha256), so nothing else the hub sends is counted.
 */
import type { RolloutDetailJson, WaveJson } from '../../hub/src/rollouts/schemas.js';
import type { BenchOutput } from './bench-output.js';
import type { BenchHub } from './rollout-fleet.js';

const POLL_MS = 500;
const ENDED = new Set(['completed', 'aborted', 'superseded']);
const SETTLED = new Set(['healthy', 'failed', 'rolled-back', 'skipped']);

export interface RolloutRun {
  /** The rollout as POST /v1/rollouts answered (its targets and waves as planned). */
  created: RolloutDetailJson;
  /** The rollout once ended and settled. */
  detail: RolloutDetailJson;
  /** Creation → end (completed, aborted), as the hub recorded them. */
  secondsToEnd: number;
  bytesSent: number;
}

/** The rollout's state in a few lines, for progress notes and for reporting an engine that misbehaves. */
export function rolloutExcerpt(r: RolloutDetailJson): string {
  const counts = (c: Record<string, number>) => Object.entries(c).filter(([k, n]) => k !== 'total' && n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  const wave = (w: WaveJson) => `  wave ${w.number} (${w.percent ?? '-'} %, ${w.size} devices): ${w.state}, healthy ${w.healthy}, failed ${w.failed} [${counts(w.counts)}]`;
  return [`rollout ${r.id} v${r.version}: ${r.state}, wave ${r.currentWave}${r.errorCode ? `, ${r.errorCode}: ${r.reason}` : ''}`, ...r.waves.map(wave)].join('\n');
}

/**
 * When the rollout ended, ms: its finishedAt — which the hub sets only on abort and supersede — else, for a completed
 * one, when its last wave passed (the rollout completes in the same step).
 */
function endOf(r: RolloutDetailJson): number | undefined {
  if (r.finishedAt) return Date.parse(r.finishedAt);
  const last = r.waves.at(-1)?.finishedAt;
  return r.state === 'completed' && last ? Date.parse(last) : undefined;
}

function settled(r: RolloutDetailJson): boolean {
  return ENDED.has(r.state) && r.targets.every((t) => SETTLED.has(t.state));
}

export async function runRollout(bench: BenchHub, body: Record<string, unknown>, out: BenchOutput, label: string, timeoutMs = 20 * 60_000): Promise<RolloutRun> {
  const bytesBySha = new Map<string, number>();
  const off = bench.hub.transfers.onTransfer((t) => bytesBySha.set(t.sha256, (bytesBySha.get(t.sha256) ?? 0) + t.bytes));
  try {
    const created = await bench.api.request<RolloutDetailJson>('POST', '/v1/rollouts', body);
    const deadline = performance.now() + timeoutMs;
    let detail = created;
    let lastWave = -1;
    while (!settled(detail)) {
      if (performance.now() > deadline) throw new Error(`${label}: not settled after ${timeoutMs / 1000} s\n${rolloutExcerpt(detail)}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      detail = await bench.api.request<RolloutDetailJson>('GET', `/v1/rollouts/${created.id}`);
      if (detail.currentWave !== lastWave) {
        lastWave = detail.currentWave;
        out.note(`${label}: wave ${detail.currentWave} started`);
      }
      const done = detail.targets.filter((t) => SETTLED.has(t.state)).length;
      out.progress(`${label} (${detail.state}, wave ${detail.currentWave})`, done, detail.targets.length);
    }
    out.endProgress();
    const endedAt = endOf(detail);
    if (endedAt === undefined) throw new Error(`${label}: ended with no end time\n${rolloutExcerpt(detail)}`);
    return {
      created, detail, secondsToEnd: (endedAt - Date.parse(detail.createdAt)) / 1000,
      bytesSent: bytesBySha.get(detail.bundleSha256) ?? 0,
    };
  } finally {
    off();
  }
}
