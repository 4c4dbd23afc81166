/** Strategy errors belong to the hub's one registry: a client gets their own code, status and message. */
import { describe, expect, it } from 'vitest';
import { HUB_ERRORS, HubError } from '../../src/errors.js';
import { createStrategy } from '../../src/rounds/strategies/index.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected an error');
}

describe('strategy errors', () => {
  it('are HubErrors with the registry status and message, violations as details', () => {
    const unknown = thrown(() => createStrategy('fedwhat'));
    expect(unknown).toBeInstanceOf(HubError);
    expect(unknown).toMatchObject({ code: 'HUB_ERR_STRATEGY_UNKNOWN', statusCode: 400 });
    expect((unknown as Error).message).toBe(`${HUB_ERRORS.HUB_ERR_STRATEGY_UNKNOWN.message}: "fedwhat"; valid strategies: fedavg, fedprox, fedavgm, fedadam, fedmedian, fedtrimmedavg, krum`);
    const options = thrown(() => createStrategy('krum', { byzantine: 1.5 }));
    expect(options).toBeInstanceOf(HubError);
    expect(options).toMatchObject({ code: 'HUB_ERR_STRATEGY_OPTIONS', statusCode: 400, details: ['byzantine: expected an integer ≥ 0, got 1.5'] });
  });
});
