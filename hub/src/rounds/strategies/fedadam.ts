// FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization", arXiv 2003.00295, Algorithm 2, Adam branch):
//   m ← β₁m + (1 − β₁)Δ̄;  v ← β₂v + (1 − β₂)Δ̄²;  w ← w + η·m / (√v + τ)
// with Δ̄ the example-weighted mean delta, m₋₁ = 0 and v₋₁ = τ² (the paper requires v₋₁ ≥ τ²). As in the
// paper there is no bias correction (Flower's FedAdam adds Adam's √(1−β₂ᵗ)/(1−β₁ᵗ) factor to η).
import type { ModelWeights } from '@fedfleet/proto';
import { SERVER_STATE_KIND, type StateVectors } from './server-state.js';
import { ServerOptimizerStrategy } from './server-optimizer.js';
import type { StrategyName } from './strategy.js';

export interface FedAdamParams {
  /** Server learning rate η > 0. */
  serverLr: number;
  /** First-moment decay β₁ in [0, 1). */
  beta1: number;
  /** Second-moment decay β₂ in [0, 1). */
  beta2: number;
  /** Adaptivity τ > 0. */
  tau: number;
}

export class FedAdam extends ServerOptimizerStrategy {
  readonly name: StrategyName = 'fedadam';

  constructor(private readonly params: FedAdamParams) {
    super(SERVER_STATE_KIND.fedadam, 2);
  }

  protected initialVectors(global: ModelWeights): StateVectors {
    const tau2 = this.params.tau * this.params.tau;
    return [global.map((w) => new Float64Array(w.data.length)), global.map((w) => new Float64Array(w.data.length).fill(tau2))];
  }

  protected step(global: ModelWeights, meanDelta: Float64Array[], vectors: StateVectors): ModelWeights {
    const { serverLr, beta1, beta2, tau } = this.params;
    return global.map((w, t) => {
      const m = vectors[0][t];
      const v = vectors[1][t];
      const d = meanDelta[t];
      const g = w.data;
      const out = new Float32Array(g.length);
      for (let i = 0; i < g.length; i++) {
        const di = d[i];
        const mi = beta1 * m[i] + (1 - beta1) * di;
        const vi = beta2 * v[i] + (1 - beta2) * di * di;
        m[i] = mi;
        v[i] = vi;
        out[i] = g[i] + (serverLr * mi) / (Math.sqrt(vi) + tau);
      }
      return { name: w.name, shape: [...w.shape], data: out };
    });
  }
}
