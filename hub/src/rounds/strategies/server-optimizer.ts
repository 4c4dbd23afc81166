// Common shape of the server-optimizer strategies (Reddi et al. 2021, Algorithm 1 "FedOpt"): clients' mean
// delta Δ̄ is a pseudo-gradient, and a server optimizer with state persisted between rounds turns it into
// the step. Owns the state's lifecycle: lazy creation, save/load, and refusing stale aggregations.
import type { ModelWeights } from '@fedfleet/proto';
import { checkGlobal } from './base-aggregator.js';
import { StrategyError } from './errors.js';
import { MeanDeltaAggregator } from './mean-delta-aggregator.js';
import {
  checkStateFits, decodeServerState, encodeServerState, type ServerStateKind, type StateVectors,
} from './server-state.js';
import type { Aggregator, ClientConfig, Strategy, StrategyName } from './strategy.js';

export abstract class ServerOptimizerStrategy implements Strategy {
  abstract readonly name: StrategyName;
  readonly minUpdates = 1;
  private vectors: StateVectors | null = null;
  // Bumped whenever the state changes, so an aggregation begun on an older state cannot finish on a newer one.
  private generation = 0;

  protected constructor(
    private readonly kind: ServerStateKind,
    private readonly vectorCount: number,
  ) {}

  begin(global: ModelWeights): Aggregator {
    checkGlobal(global);
    if (this.vectors) checkStateFits(this.vectors, global);
    const startedAt = this.generation;
    return new MeanDeltaAggregator(global, (g, meanDelta) => {
      if (this.generation !== startedAt) throw new StrategyError('HUB_ERR_AGG_STALE', this.name);
      const vectors = this.vectors ?? this.initialVectors(g);
      const next = this.step(g, meanDelta, vectors);
      this.vectors = vectors;
      this.generation += 1;
      return next;
    });
  }

  saveState(): Uint8Array | null {
    return this.vectors ? encodeServerState(this.kind, this.vectors) : null;
  }

  loadState(state: Uint8Array | null): void {
    this.vectors = state === null ? null : decodeServerState(state, this.kind, this.vectorCount);
    this.generation += 1;
  }

  clientConfig(): ClientConfig {
    return { proximalMu: 0 };
  }

  /** Optimizer state before the first round: `vectorCount` vectors shaped like `global`. */
  protected abstract initialVectors(global: ModelWeights): StateVectors;

  /** Advances `vectors` in place with the mean delta and returns the new global weights. */
  protected abstract step(global: ModelWeights, meanDelta: Float64Array[], vectors: StateVectors): ModelWeights;
}
