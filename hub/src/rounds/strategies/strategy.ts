// The one interface every server-side aggregation strategy implements (DESIGN §4 "Aggregation strategies").
import type { ModelWeights } from '@fedfleet/proto';

/** Names of the built-in strategies, as used in campaign configuration. */
export type StrategyName = 'fedavg' | 'fedprox' | 'fedavgm' | 'fedadam' | 'fedmedian' | 'fedtrimmedavg' | 'krum';

/** One client's contribution to a round, already decoded and validated by the round (DESIGN §4 "Update validation"). */
export interface ClientUpdate {
  deviceId: string;
  /**
   * The update's weight, nₖ in FedAvg's Σ nₖwₖ / Σ nₖ. Positive. The round passes the device's claimed example count
   * bounded by what the hub knows (rounds/update-weight.ts), never the bare claim.
   */
  exampleCount: number;
  /**
   * wₖ − w_global: same tensor order and shapes as the global weights passed to `begin`. A tensor name, when
   * not empty, must equal the global tensor's name. The aggregator never mutates it and does not keep it after
   * `add` returns (buffering strategies keep a copy).
   */
  delta: ModelWeights;
}

/** What a strategy asks of the clients' local training. */
export interface ClientConfig {
  /** FedProx proximal term weight μ (Li et al. 2020, eq. 2); 0 = plain local SGD. */
  proximalMu: number;
}

/** Aggregation of one round, created by {@link Strategy.begin}. Single use. */
export interface Aggregator {
  /**
   * Adds one update. Rejected updates (wrong shapes, non-finite values, bad example count, a device seen before)
   * throw a StrategyError and leave the aggregation unchanged.
   */
  add(update: ClientUpdate): void;
  /** Updates accepted so far. */
  readonly count: number;
  /**
   * Returns the new global weights (fresh arrays; the global weights given to `begin` are not modified) and
   * advances the strategy's server-optimizer state, if any. Throws HUB_ERR_AGG_NO_UPDATES with no updates and
   * HUB_ERR_AGG_TOO_FEW_UPDATES below `Strategy.minUpdates` (more updates may still be added after either), and
   * HUB_ERR_AGG_FINISHED once it has run, even if it threw: an aggregation is single use.
   */
  finish(): ModelWeights;
}

export interface Strategy {
  readonly name: StrategyName;
  /** Fewest updates `finish` accepts (e.g. Krum needs n > 2f + 2); rounds should not set `minClients` below it. */
  readonly minUpdates: number;
  /**
   * Starts aggregating one round on top of the current global weights, which must stay unchanged until
   * `finish` returns. For server optimizers, only one aggregation per state may finish: a second one, or one
   * begun before `loadState`, throws HUB_ERR_AGG_STALE.
   */
  begin(global: ModelWeights): Aggregator;
  /**
   * Server-optimizer state (FedAvgM momentum, FedAdam moments) to persist between rounds and across hub
   * restarts, or null for stateless strategies and before the first finished round. `finish` advances the
   * state, so to abandon a finished round restore the bytes saved before `begin`.
   */
  saveState(): Uint8Array | null;
  /** Restores state from {@link saveState}; null resets it. Throws HUB_ERR_STRATEGY_STATE on foreign or corrupt bytes. */
  loadState(state: Uint8Array | null): void;
  /** Client-side configuration this strategy asks for. */
  clientConfig(): ClientConfig;
}
