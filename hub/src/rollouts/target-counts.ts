/** Targets counted by state (and verdict), for a whole rollout or one wave: what views, events and watchers show. */
import type { TallyRow } from './rollout-repo.js';
import { TARGET_STATES } from './rollout-state.js';
import type { TargetCountsJson } from './schemas.js';

export interface WaveTally {
  counts: TargetCountsJson;
  healthy: number;
  failed: number;
}

/** The counts of `rows` (a rollout's tally), restricted to `wave` when given. */
export function tallyOf(rows: readonly TallyRow[], wave?: number): WaveTally {
  const counts = { total: 0, ...Object.fromEntries(TARGET_STATES.map((s) => [s, 0])) } as TargetCountsJson;
  let healthy = 0;
  let failed = 0;
  for (const row of rows) {
    if (wave !== undefined && row.wave !== wave) continue;
    counts[row.state] += row.n;
    counts.total += row.n;
    if (row.verdict === 'healthy') healthy += row.n;
    if (row.verdict === 'failed') failed += row.n;
  }
  return { counts, healthy, failed };
}
