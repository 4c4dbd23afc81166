// Strategy options: validated once where they enter, every violation reported, then frozen.
import { StrategyError } from './errors.js';
import type { StrategyName } from './strategy.js';

/** Options of {@link createStrategy}; each applies to the strategies named in its description only. */
export interface StrategyOptions {
  /**
   * fedprox: proximal term weight μ ≥ 0 sent to clients (Li et al. 2020, eq. 2). Default 0.01 (one of the values
   * tuned in the paper; Flower has no default).
   */
  proximalMu?: number;
  /**
   * fedavgm, fedadam: server learning rate η > 0. Default 1.0 for fedavgm (Flower `server_learning_rate`),
   * 0.01 for fedadam. Flower's `eta` = 0.1 with its τ = 1e-9 moves every coordinate by ~η per round (m/√v ≈ ±1)
   * and wrecked the FedAvg paper's 2NN in our benchmark (accuracy at chance); 0.01 with τ = 1e-3 learns.
   */
  serverLr?: number;
  /**
   * fedavgm: server momentum β in [0, 1). Default 0.9. Flower defaults `server_momentum` to 0.0, which makes
   * FedAvgM plain FedAvg; choosing fedavgm is meant to turn momentum on. Note the steady-state step is
   * η / (1 − β) × the mean delta (Hsu et al. 2019 "effective learning rate"): 10× with the defaults.
   */
  momentum?: number;
  /** fedadam: first-moment decay β₁ in [0, 1). Default 0.9 (Flower `beta_1`). */
  beta1?: number;
  /** fedadam: second-moment decay β₂ in [0, 1). Default 0.99 (Flower `beta_2`). */
  beta2?: number;
  /**
   * fedadam: adaptivity τ > 0 added to √v (Reddi et al. 2021, Alg. 2). Default 1e-3, the value Reddi et al. use in
   * their experiments (Flower's 1e-9 makes the step sign-like; see serverLr).
   */
  tau?: number;
  /**
   * fedtrimmedavg: fraction β in [0, 0.5) of values cut at each end, per coordinate (Yin et al. 2018).
   * Default 0.2 (Flower `beta`).
   */
  trimFraction?: number;
  /** krum: number f ≥ 0 of Byzantine clients tolerated (Blanchard et al. 2017). Default 0 (Flower `num_malicious_clients`). */
  byzantine?: number;
  /**
   * krum: Multi-Krum m ≥ 0, the number of best-scored updates averaged; 0 = Krum, a single update.
   * Default 0 (Flower `num_clients_to_keep`).
   */
  multiKrum?: number;
}

/** Options with every default filled in. */
export type ResolvedStrategyOptions = Readonly<Required<StrategyOptions>>;

/** Option keys each strategy reads; any other key given is a configuration mistake and is reported. */
export const STRATEGY_OPTION_KEYS: Readonly<Record<StrategyName, readonly (keyof StrategyOptions)[]>> = {
  fedavg: [],
  fedprox: ['proximalMu'],
  fedavgm: ['serverLr', 'momentum'],
  fedadam: ['serverLr', 'beta1', 'beta2', 'tau'],
  fedmedian: [],
  fedtrimmedavg: ['trimFraction'],
  krum: ['byzantine', 'multiKrum'],
};

type Check = (value: number) => boolean;

const RULES: Readonly<Record<keyof StrategyOptions, { check: Check; expect: string }>> = {
  proximalMu: { check: (v) => v >= 0, expect: 'a finite number ≥ 0' },
  serverLr: { check: (v) => v > 0, expect: 'a finite number > 0' },
  momentum: { check: (v) => v >= 0 && v < 1, expect: 'a number in [0, 1)' },
  beta1: { check: (v) => v >= 0 && v < 1, expect: 'a number in [0, 1)' },
  beta2: { check: (v) => v >= 0 && v < 1, expect: 'a number in [0, 1)' },
  tau: { check: (v) => v > 0, expect: 'a finite number > 0' },
  trimFraction: { check: (v) => v >= 0 && v < 0.5, expect: 'a number in [0, 0.5)' },
  byzantine: { check: (v) => Number.isInteger(v) && v >= 0, expect: 'an integer ≥ 0' },
  multiKrum: { check: (v) => Number.isInteger(v) && v >= 0, expect: 'an integer ≥ 0' },
};

function defaults(name: StrategyName): ResolvedStrategyOptions {
  return {
    proximalMu: 0.01,
    serverLr: name === 'fedadam' ? 0.01 : 1.0,
    momentum: 0.9,
    beta1: 0.9,
    beta2: 0.99,
    tau: 1e-3,
    trimFraction: 0.2,
    byzantine: 0,
    multiKrum: 0,
  };
}

/**
 * Validates `options` for strategy `name` and fills defaults. Reports every violation at once — wrong types or
 * ranges, and options the strategy does not use — in one HUB_ERR_STRATEGY_OPTIONS error (`violations`).
 */
export function resolveStrategyOptions(name: StrategyName, options: StrategyOptions = {}): ResolvedStrategyOptions {
  const allowed = STRATEGY_OPTION_KEYS[name];
  const resolved: Record<string, number> = { ...defaults(name) };
  const violations: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const rule = RULES[key as keyof StrategyOptions];
    if (!rule) {
      violations.push(`${key}: unknown option`);
      continue;
    }
    if (!allowed.includes(key as keyof StrategyOptions)) {
      violations.push(`${key}: not used by ${name}`);
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || !rule.check(value)) {
      violations.push(`${key}: expected ${rule.expect}, got ${String(value)}`);
      continue;
    }
    resolved[key] = value;
  }
  if (violations.length > 0) {
    throw new StrategyError('HUB_ERR_STRATEGY_OPTIONS', `${name}: ${violations.join('; ')}`, { violations });
  }
  return Object.freeze(resolved) as unknown as ResolvedStrategyOptions;
}
