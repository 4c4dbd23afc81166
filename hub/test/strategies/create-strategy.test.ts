import { describe, expect, it } from 'vitest';
import {
  STRATEGY_ERROR_CODES, STRATEGY_NAMES, StrategyError, createStrategy, isStrategyName, resolveStrategyOptions,
} from '../../src/rounds/strategies/index.js';

function errorOf(fn: () => unknown): StrategyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StrategyError);
    return error as StrategyError;
  }
  return expect.unreachable('expected a StrategyError');
}

describe('createStrategy', () => {
  it('builds every registered strategy under its own name', () => {
    expect([...STRATEGY_NAMES].sort()).toEqual(['fedadam', 'fedavg', 'fedavgm', 'fedmedian', 'fedprox', 'fedtrimmedavg', 'krum']);
    for (const name of STRATEGY_NAMES) {
      expect(createStrategy(name).name).toBe(name);
      expect(isStrategyName(name)).toBe(true);
    }
    expect(isStrategyName('toString')).toBe(false);
  });

  it('rejects an unknown name', () => {
    expect(errorOf(() => createStrategy('fedyogi')).code).toBe('HUB_ERR_STRATEGY_UNKNOWN');
    expect(errorOf(() => createStrategy('__proto__')).code).toBe('HUB_ERR_STRATEGY_UNKNOWN');
  });

  it('fills the documented defaults (Flower where it has one)', () => {
    expect(resolveStrategyOptions('fedavgm')).toMatchObject({ serverLr: 1, momentum: 0.9 });
    expect(resolveStrategyOptions('fedadam')).toMatchObject({ serverLr: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3 });
    expect(resolveStrategyOptions('fedtrimmedavg')).toMatchObject({ trimFraction: 0.2 });
    expect(resolveStrategyOptions('krum')).toMatchObject({ byzantine: 0, multiKrum: 0 });
    expect(resolveStrategyOptions('fedprox')).toMatchObject({ proximalMu: 0.01 });
    expect(Object.isFrozen(resolveStrategyOptions('fedavg'))).toBe(true);
  });

  it('reports every violation at once, including options the strategy does not use', () => {
    const error = errorOf(() => createStrategy('fedadam', { beta1: 1, tau: -1, serverLr: Number.NaN, momentum: 0.5, typo: 1 } as never));
    expect(error.code).toBe('HUB_ERR_STRATEGY_OPTIONS');
    expect(error.violations).toHaveLength(5);
    expect(error.violations.join('\n')).toMatch(/beta1[\s\S]*tau[\s\S]*serverLr[\s\S]*momentum: not used by fedadam[\s\S]*typo: unknown option/);
    expect(errorOf(() => createStrategy('krum', { byzantine: 1.5, multiKrum: -1 })).violations).toHaveLength(2);
    expect(errorOf(() => createStrategy('fedtrimmedavg', { trimFraction: 0.5 })).code).toBe('HUB_ERR_STRATEGY_OPTIONS');
    expect(errorOf(() => createStrategy('fedprox', { proximalMu: '0.1' as never })).code).toBe('HUB_ERR_STRATEGY_OPTIONS');
    expect(errorOf(() => createStrategy('fedavgm', { momentum: 1 })).code).toBe('HUB_ERR_STRATEGY_OPTIONS');
  });

  it('derives minUpdates from the robustness assumptions', () => {
    expect(createStrategy('fedavg').minUpdates).toBe(1);
    expect(createStrategy('krum').minUpdates).toBe(3); // n > 2f + 2 with f = 0
    expect(createStrategy('krum', { byzantine: 2 }).minUpdates).toBe(7);
    expect(createStrategy('krum', { byzantine: 1, multiKrum: 8 }).minUpdates).toBe(9); // m + f
    expect(createStrategy('fedtrimmedavg').minUpdates).toBe(5); // ⌊0.2·5⌋ = 1
    expect(createStrategy('fedtrimmedavg', { trimFraction: 0.3 }).minUpdates).toBe(4);
    expect(createStrategy('fedtrimmedavg', { trimFraction: 0.1 }).minUpdates).toBe(10);
    expect(createStrategy('fedtrimmedavg', { trimFraction: 0 }).minUpdates).toBe(1);
  });

  it('documents every error code with a message', () => {
    for (const [code, message] of Object.entries(STRATEGY_ERROR_CODES)) {
      expect(code).toMatch(/^HUB_ERR_[A-Z_]+$/);
      expect(message.length).toBeGreaterThan(10);
    }
  });
});
