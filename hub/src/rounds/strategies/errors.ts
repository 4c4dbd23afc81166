/**
 * Errors of the aggregation strategies. Their codes and messages live in the hub's one registry (hub/src/errors.ts);
 * a StrategyError is a HubError, so an API client gets its own code and status (HUB_ERR_STRATEGY_UNKNOWN, 400, …).
 * Callers branch on `code`, never on the message text.
 */
import { HUB_ERRORS, HubError, type HubErrorCode } from '../../errors.js';

/** The registry codes strategies throw. */
const STRATEGY_CODES = [
  'HUB_ERR_STRATEGY_UNKNOWN', 'HUB_ERR_STRATEGY_OPTIONS', 'HUB_ERR_STRATEGY_STATE', 'HUB_ERR_AGG_NO_UPDATES',
  'HUB_ERR_AGG_TOO_FEW_UPDATES', 'HUB_ERR_AGG_SHAPE_MISMATCH', 'HUB_ERR_AGG_NON_FINITE', 'HUB_ERR_AGG_BAD_EXAMPLE_COUNT',
  'HUB_ERR_AGG_DUPLICATE_DEVICE', 'HUB_ERR_AGG_FINISHED', 'HUB_ERR_AGG_STALE',
] as const satisfies readonly HubErrorCode[];

export type StrategyErrorCode = (typeof STRATEGY_CODES)[number];

/** The registry's message of each strategy code: a view of HUB_ERRORS, not a second registry. */
export const STRATEGY_ERROR_CODES: Readonly<Record<StrategyErrorCode, string>> = Object.freeze(
  Object.fromEntries(STRATEGY_CODES.map((code) => [code, HUB_ERRORS[code].message])) as Record<StrategyErrorCode, string>,
);

export class StrategyError extends HubError {
  declare readonly code: StrategyErrorCode;
  /** Every violation found, for HUB_ERR_STRATEGY_OPTIONS (empty otherwise); also the error's `details`. */
  readonly violations: readonly string[];
  constructor(code: StrategyErrorCode, detail?: string, options?: { violations?: readonly string[]; cause?: unknown }) {
    const violations = Object.freeze([...(options?.violations ?? [])]);
    super(code, {
      message: detail ? `${HUB_ERRORS[code].message}: ${detail}` : HUB_ERRORS[code].message,
      ...(violations.length > 0 ? { details: violations } : {}),
      cause: options?.cause,
    });
    this.name = 'StrategyError';
    this.violations = violations;
  }
}

export function isStrategyError(error: unknown): error is StrategyError {
  return error instanceof StrategyError;
}
