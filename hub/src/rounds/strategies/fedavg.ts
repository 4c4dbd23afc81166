// FedAvg (McMahan et al. 2017, arXiv 1602.05629, Algorithm 1): w ← Σₖ nₖwₖ / Σₖ nₖ, computed on deltas as
// w ← w + Σₖ nₖΔₖ / Σₖ nₖ, streamed (O(parameters) memory, however many clients).
import type { ModelWeights } from '@fedfleet/proto';
import { checkGlobal } from './base-aggregator.js';
import { MeanDeltaAggregator } from './mean-delta-aggregator.js';
import { addToGlobal } from './weights-math.js';
import type { Aggregator, ClientConfig, Strategy, StrategyName } from './strategy.js';

export class FedAvg implements Strategy {
  readonly name: StrategyName = 'fedavg';
  readonly minUpdates = 1;

  begin(global: ModelWeights): Aggregator {
    checkGlobal(global);
    return new MeanDeltaAggregator(global, addToGlobal);
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
