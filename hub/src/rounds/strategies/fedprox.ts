// FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks", Algorithm 2): clients minimise
// Fₖ(w) + μ/2‖w − wᵗ‖² (eq. 2); the server update is FedAvg's weighted mean. So the server side is FedAvg and
// this strategy only tells clients μ.
import { FedAvg } from './fedavg.js';
import type { ClientConfig, StrategyName } from './strategy.js';

export class FedProx extends FedAvg {
  override readonly name: StrategyName = 'fedprox';

  /** @param proximalMu μ ≥ 0 (validated by createStrategy). */
  constructor(private readonly proximalMu: number) {
    super();
  }

  override clientConfig(): ClientConfig {
    return { proximalMu: this.proximalMu };
  }
}
