// Krum and Multi-Krum (Blanchard et al. 2017, "Machine Learning with Adversaries: Byzantine Tolerant Gradient
// Descent", NeurIPS, §4): score(i) = Σ ‖Δᵢ − Δⱼ‖² over the n − f − 2 updates j nearest to i; Krum keeps the
// update with the lowest score, Multi-Krum averages the m lowest-scored ones. Requires n > 2f + 2 (§4,
// Proposition 1). The Multi-Krum average is unweighted: example counts are client claims a Byzantine client could
// inflate (Flower weights by them). Ties go to the earlier update. Buffers every update; O(n²·P) time.
import type { ModelWeights } from '@fedfleet/proto';
import { checkGlobal } from './base-aggregator.js';
import { BufferedAggregator } from './buffered-aggregator.js';
import { addFlatToGlobal, sortColumn } from './weights-math.js';
import type { Aggregator, ClientConfig, Strategy, StrategyName } from './strategy.js';

/** Squared Euclidean distances between all pairs, as an n × n row-major matrix. */
export function pairwiseSquaredDistances(deltas: readonly Float32Array[]): Float64Array {
  const n = deltas.length;
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = deltas[i];
    for (let j = i + 1; j < n; j++) {
      const b = deltas[j];
      let sum = 0;
      for (let p = 0; p < a.length; p++) {
        const diff = a[p] - b[p];
        sum += diff * diff;
      }
      dist[i * n + j] = sum;
      dist[j * n + i] = sum;
    }
  }
  return dist;
}

/** Krum scores: for each i, the sum of its `neighbours` smallest squared distances to the others. */
export function krumScores(dist: Float64Array, n: number, neighbours: number): Float64Array {
  const scores = new Float64Array(n);
  const row = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let j = 0; j < n; j++) if (j !== i) row[r++] = dist[i * n + j];
    sortColumn(row);
    let score = 0;
    for (let k = 0; k < neighbours; k++) score += row[k];
    scores[i] = score;
  }
  return scores;
}

/** Indices of the `count` lowest scores, lowest first; ties keep the earlier index. */
export function lowestScores(scores: Float64Array, count: number): number[] {
  const order = Array.from(scores.keys());
  order.sort((a, b) => scores[a] - scores[b] || a - b);
  return order.slice(0, count);
}

export class Krum implements Strategy {
  readonly name: StrategyName = 'krum';
  /** n > 2f + 2 (Blanchard et al. Prop. 1), and at least m + f updates for Multi-Krum. */
  readonly minUpdates: number;

  /**
   * @param byzantine f ≥ 0, Byzantine clients tolerated.
   * @param multiKrum m ≥ 0; 0 = Krum (one update), m > 0 = average of the m best.
   */
  constructor(private readonly byzantine: number, private readonly multiKrum: number) {
    this.minUpdates = Math.max(2 * byzantine + 3, multiKrum + byzantine);
  }

  begin(global: ModelWeights): Aggregator {
    checkGlobal(global);
    return new BufferedAggregator(global, this.minUpdates, (g, deltas) => {
      const n = deltas.length;
      const scores = krumScores(pairwiseSquaredDistances(deltas), n, n - this.byzantine - 2);
      const chosen = lowestScores(scores, Math.max(1, this.multiKrum));
      if (chosen.length === 1) return addFlatToGlobal(g, deltas[chosen[0]]);
      const mean = new Float64Array(deltas[0].length);
      for (const k of chosen) {
        const d = deltas[k];
        for (let p = 0; p < mean.length; p++) mean[p] += d[p];
      }
      const inv = 1 / chosen.length;
      for (let p = 0; p < mean.length; p++) mean[p] *= inv;
      return addFlatToGlobal(g, mean);
    });
  }

  saveState(): Uint8Array | null {
    return null;
  }

  loadState(_state: Uint8Array | null): void {
    // Stateless.
  }

  clientConfig(): ClientConfig {
    return { proximalMu: 0 };
  }
}
