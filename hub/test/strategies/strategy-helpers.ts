import { expect } from 'vitest';
import { StrategyError } from '../../src/rounds/strategies/index.js';

/** The StrategyError code `fn` throws, or `'no error'`. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StrategyError);
    return (error as StrategyError).code;
  }
  return 'no error';
}
