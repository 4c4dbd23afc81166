// FedAvgM (Hsu et al. 2019, arXiv 1909.06335, §3 "server momentum"): v ← βv + Δ̄; w ← w + ηv, with Δ̄ the
// example-weighted mean delta. Same convention as Flower's FedAvgM (PyTorch SGD momentum, no Nesterov,
// v starts at 0 so the first round's v is Δ̄). Streaming; momentum persists between rounds.
import type { ModelWeights } from '@fedfleet/proto';
import { SERVER_STATE_KIND, type StateVectors } from './server-state.js';
import { ServerOptimizerStrategy } from './server-optimizer.js';
import type { StrategyName } from './strategy.js';

export class FedAvgM extends ServerOptimizerStrategy {
  readonly name: StrategyName = 'fedavgm';

  /**
   * @param serverLr η > 0.
   * @param momentum β in [0, 1).
   */
  constructor(private readonly serverLr: number, private readonly momentum: number) {
    super(SERVER_STATE_KIND.fedavgm, 1);
  }

  protected initialVectors(global: ModelWeights): StateVectors {
    return [global.map((w) => new Float64Array(w.data.length))];
  }

  protected step(global: ModelWeights, meanDelta: Float64Array[], vectors: StateVectors): ModelWeights {
    const beta = this.momentum;
    const lr = this.serverLr;
    return global.map((w, t) => {
      const v = vectors[0][t];
      const d = meanDelta[t];
      const g = w.data;
      const out = new Float32Array(g.length);
      for (let i = 0; i < g.length; i++) {
        const vi = beta * v[i] + d[i];
        v[i] = vi;
        out[i] = g[i] + lr * vi;
      }
      return { name: w.name, shape: [...w.shape], data: out };
    });
  }
}
