/**
 * Error codes of the agent's data and ML layers (`agent/src/data`, `agent/src/ml`). They follow the agent's
 * `AGENT_ERR_*` registry (`agent/src/errors.ts`): four are already there with the same meaning, the others are
 * new and meant to be merged into it. Callers branch on `code`, never on the message text.
 */
export const ML_ERROR_CODES = {
  AGENT_ERR_NO_DATA: 'this device has no local data source',
  AGENT_ERR_DATA_FORMAT: 'the local data set is malformed',
  AGENT_ERR_CANCELLED: 'the task was cancelled',
  AGENT_ERR_TRAIN_FAILED: 'local training failed',
  AGENT_ERR_BACKEND: 'the requested TensorFlow.js backend is not available',
  AGENT_ERR_BAD_MODEL: 'the model topology cannot be loaded',
  AGENT_ERR_WEIGHTS_MISMATCH: 'the weights do not match the model',
  AGENT_ERR_BAD_OPTIONS: 'invalid training, evaluation or partition options',
} as const;

export type MlErrorCode = keyof typeof ML_ERROR_CODES;

export class MlError extends Error {
  readonly code: MlErrorCode;
  constructor(code: MlErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ML_ERROR_CODES[code]}: ${detail}` : ML_ERROR_CODES[code], options);
    this.name = 'MlError';
    this.code = code;
  }
}

export function isMlError(error: unknown): error is MlError {
  return error instanceof MlError;
}
