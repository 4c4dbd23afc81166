// FedTrimmedAvg (Yin et al. 2018, arXiv 1803.01498, Algorithm 1 option II, coordinate-wise β-trimmed mean):
// per coordinate, drop the ⌊βn⌋ largest and ⌊βn⌋ smallest client values and average the rest, unweighted
// (as scipy.stats.trim_mean and Flower's FedTrimmedAvg). Computed on deltas. Buffers every update.
import type { ModelWeights } from '@fedfleet/proto';
import { checkGlobal } from './base-aggregator.js';
import { BufferedAggregator } from './buffered-aggregator.js';
import { reduceCoordinates, sortColumn } from './weights-math.js';
import type { Aggregator, ClientConfig, Strategy, StrategyName } from './strategy.js';

/** β-trimmed mean of `column` (reordered in place); `cut` = ⌊βn⌋ values dropped at each end, 2·cut < n. */
export function trimmedMean(column: Float64Array, cut: number): number {
  sortColumn(column);
  let sum = 0;
  const end = column.length - cut;
  for (let k = cut; k < end; k++) sum += column[k];
  return sum / (end - cut);
}

export class FedTrimmedAvg implements Strategy {
  readonly name: StrategyName = 'fedtrimmedavg';
  /**
   * Fewest updates for which ⌊βn⌋ ≥ 1, so that trimming actually happens: with fewer, the "robust" rule
   * would silently be a plain mean. 1 when β = 0.
   */
  readonly minUpdates: number;

  /** @param trimFraction β in [0, 0.5) (validated by createStrategy). */
  constructor(private readonly trimFraction: number) {
    let n = 1;
    if (trimFraction > 0) {
      // Same ⌊β·n⌋ arithmetic as `finish`, so the bound agrees with it even where 1/β is not exact.
      n = Math.max(1, Math.floor(1 / trimFraction));
      while (Math.floor(trimFraction * n) < 1) n++;
    }
    this.minUpdates = n;
  }

  begin(global: ModelWeights): Aggregator {
    checkGlobal(global);
    const beta = this.trimFraction;
    return new BufferedAggregator(global, this.minUpdates, (g, deltas) => {
      const cut = Math.floor(beta * deltas.length);
      return reduceCoordinates(g, deltas, (column) => trimmedMean(column, cut));
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
