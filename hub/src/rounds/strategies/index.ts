// Registry of aggregation strategies: name → factory, one file per strategy (DESIGN §4).
import { StrategyError } from './errors.js';
import { FedAdam } from './fedadam.js';
import { FedAvg } from './fedavg.js';
import { FedAvgM } from './fedavgm.js';
import { FedMedian } from './fedmedian.js';
import { FedProx } from './fedprox.js';
import { FedTrimmedAvg } from './fedtrimmedavg.js';
import { Krum } from './krum.js';
import { resolveStrategyOptions, type ResolvedStrategyOptions, type StrategyOptions } from './options.js';
import type { Strategy, StrategyName } from './strategy.js';

const FACTORIES: Readonly<Record<StrategyName, (o: ResolvedStrategyOptions) => Strategy>> = {
  fedavg: () => new FedAvg(),
  fedprox: (o) => new FedProx(o.proximalMu),
  fedavgm: (o) => new FedAvgM(o.serverLr, o.momentum),
  fedadam: (o) => new FedAdam({ serverLr: o.serverLr, beta1: o.beta1, beta2: o.beta2, tau: o.tau }),
  fedmedian: () => new FedMedian(),
  fedtrimmedavg: (o) => new FedTrimmedAvg(o.trimFraction),
  krum: (o) => new Krum(o.byzantine, o.multiKrum),
};

/** Names accepted by {@link createStrategy}. */
export const STRATEGY_NAMES = Object.freeze(Object.keys(FACTORIES) as StrategyName[]);

export function isStrategyName(name: unknown): name is StrategyName {
  return typeof name === 'string' && Object.hasOwn(FACTORIES, name);
}

/**
 * Creates a strategy by name with validated options (defaults and ranges: {@link StrategyOptions}).
 * @throws StrategyError HUB_ERR_STRATEGY_UNKNOWN for an unknown name, HUB_ERR_STRATEGY_OPTIONS listing every
 * invalid or inapplicable option.
 */
export function createStrategy(name: string, options: StrategyOptions = {}): Strategy {
  if (!isStrategyName(name)) {
    throw new StrategyError('HUB_ERR_STRATEGY_UNKNOWN', `${JSON.stringify(name)}; valid strategies: ${STRATEGY_NAMES.join(', ')}`);
  }
  return FACTORIES[name](resolveStrategyOptions(name, options));
}

export * from './errors.js';
export type * from './strategy.js';
export { STRATEGY_OPTION_KEYS, resolveStrategyOptions, type ResolvedStrategyOptions, type StrategyOptions } from './options.js';
export { FedAdam, type FedAdamParams } from './fedadam.js';
export { FedAvg } from './fedavg.js';
export { FedAvgM } from './fedavgm.js';
export { FedMedian } from './fedmedian.js';
export { FedProx } from './fedprox.js';
export { FedTrimmedAvg } from './fedtrimmedavg.js';
export { Krum } from './krum.js';
