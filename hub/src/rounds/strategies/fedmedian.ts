// FedMedian (Yin et al. 2018, "Byzantine-Robust Distributed Learning: Towards Optimal Statistical Rates",
// arXiv 1803.01498, Algorithm 1 option I): coordinate-wise median of the client models, unweighted. Computed on
// deltas (median(global + Δₖ) = global + median(Δₖ)). For an even count the median is the mean of the two
// middle values, as numpy's (and Flower's). Buffers every update.
import type { ModelWeights } from '@fedfleet/proto';
import { checkGlobal } from './base-aggregator.js';
import { BufferedAggregator } from './buffered-aggregator.js';
import { reduceCoordinates, sortColumn } from './weights-math.js';
import type { Aggregator, ClientConfig, Strategy, StrategyName } from './strategy.js';

/** Median of `column` (reordered in place). */
export function median(column: Float64Array): number {
  sortColumn(column);
  const n = column.length;
  const mid = n >> 1;
  return n % 2 === 1 ? column[mid] : (column[mid - 1] + column[mid]) / 2;
}

export class FedMedian implements Strategy {
  readonly name: StrategyName = 'fedmedian';
  readonly minUpdates = 1;

  begin(global: ModelWeights): Aggregator {
    checkGlobal(global);
    return new BufferedAggregator(global, this.minUpdates, (g, deltas) => reduceCoordinates(g, deltas, median));
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
