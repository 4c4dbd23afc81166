/**
 * Error codes of the aggregation strategies, to be merged into the hub error registry. Callers branch on
 * `code`, never on the message text. Codes are stable: add new ones, never rename.
 */
export const STRATEGY_ERROR_CODES = {
  HUB_ERR_STRATEGY_UNKNOWN: 'unknown aggregation strategy',
  HUB_ERR_STRATEGY_OPTIONS: 'invalid aggregation strategy options',
  HUB_ERR_STRATEGY_STATE: 'server optimizer state is invalid or does not match the model',
  HUB_ERR_AGG_NO_UPDATES: 'cannot aggregate a round without updates',
  HUB_ERR_AGG_TOO_FEW_UPDATES: 'too few updates for this aggregation strategy',
  HUB_ERR_AGG_SHAPE_MISMATCH: 'update does not match the tensors of the global model',
  HUB_ERR_AGG_NON_FINITE: 'update contains NaN or infinite values',
  HUB_ERR_AGG_BAD_EXAMPLE_COUNT: 'update example count must be a positive finite number',
  HUB_ERR_AGG_DUPLICATE_DEVICE: 'device already contributed an update to this aggregation',
  HUB_ERR_AGG_FINISHED: 'aggregation already finished',
  HUB_ERR_AGG_STALE: 'server optimizer state changed since this aggregation began',
} as const;

export type StrategyErrorCode = keyof typeof STRATEGY_ERROR_CODES;

export class StrategyError extends Error {
  readonly code: StrategyErrorCode;
  /** Every violation found, for HUB_ERR_STRATEGY_OPTIONS (empty otherwise). */
  readonly violations: readonly string[];
  constructor(code: StrategyErrorCode, detail?: string, options?: { violations?: readonly string[]; cause?: unknown }) {
    super(detail ? `${STRATEGY_ERROR_CODES[code]}: ${detail}` : STRATEGY_ERROR_CODES[code], { cause: options?.cause });
    this.name = 'StrategyError';
    this.code = code;
    this.violations = Object.freeze([...(options?.violations ?? [])]);
  }
}

export function isStrategyError(error: unknown): error is StrategyError {
  return error instanceof StrategyError;
}
