// Streaming example-weighted mean of client deltas, Δ̄ = Σ nₖΔₖ / Σ nₖ (McMahan et al. 2017, Algorithm 1,
// server update), the common core of FedAvg, FedProx, FedAvgM and FedAdam. Each update is folded into one
// Float64Array per tensor as it arrives and then dropped: memory is O(parameters) whatever the client count.
import type { ModelWeights } from '@fedfleet/proto';
import { BaseAggregator } from './base-aggregator.js';
import type { ClientUpdate } from './strategy.js';

/**
 * Turns the weighted mean delta into the new global weights. `meanDelta` holds one Float64Array per global
 * tensor and may be reused or overwritten by the callee.
 */
export type ApplyMeanDelta = (global: ModelWeights, meanDelta: Float64Array[]) => ModelWeights;

export class MeanDeltaAggregator extends BaseAggregator {
  private readonly sums: Float64Array[];
  private totalExamples = 0;

  constructor(global: ModelWeights, private readonly apply: ApplyMeanDelta) {
    super(global, 1);
    this.sums = global.map((w) => new Float64Array(w.data.length));
  }

  protected accept(update: ClientUpdate): void {
    const n = update.exampleCount;
    for (let t = 0; t < this.sums.length; t++) {
      const sum = this.sums[t];
      const d = update.delta[t].data;
      for (let i = 0; i < sum.length; i++) sum[i] += n * d[i];
    }
    this.totalExamples += n;
  }

  protected compute(): ModelWeights {
    const inv = 1 / this.totalExamples;
    for (const sum of this.sums) {
      for (let i = 0; i < sum.length; i++) sum[i] *= inv;
    }
    return this.apply(this.global, this.sums);
  }
}
