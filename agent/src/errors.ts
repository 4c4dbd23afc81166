/**
 * The agent's one error registry, for the whole package: session, commands, and the data and ML layers
 * (`agent/src/data`, `agent/src/ml`). Callers branch on `code`, never on message text; the codes also travel to
 * the hub in `CommandResult.errorCode` when a device refuses or fails a command. Codes are stable: add new ones,
 * never rename.
 */
export const AGENT_ERROR_CODES = {
  AGENT_ERR_CONFIG: 'invalid agent configuration',
  AGENT_ERR_NOT_ENROLLED: 'no saved credentials and no enrollment token given',
  AGENT_ERR_ENROLL_FAILED: 'the hub refused the enrollment',
  AGENT_ERR_HUB_UNREACHABLE: 'the hub could not be reached',
  AGENT_ERR_CREDENTIALS_REJECTED: 'the broker rejected the device credentials (revoked?)',
  AGENT_ERR_CREDENTIALS_FILE: 'the saved credentials file is unreadable or invalid',
  AGENT_ERR_BUSY: 'the device is already running a task',
  AGENT_ERR_MODEL_TOO_LARGE: 'the model does not fit this device profile',
  AGENT_ERR_CANNOT_TRAIN: 'this device profile has no training runtime',
  AGENT_ERR_NO_DATA: 'this device has no local data source',
  AGENT_ERR_DEADLINE: 'the task deadline has passed',
  AGENT_ERR_CANCELLED: 'the task was cancelled',
  AGENT_ERR_FETCH_FAILED: 'downloading an artifact failed',
  AGENT_ERR_INTEGRITY: 'a downloaded artifact does not match its sha256',
  AGENT_ERR_BAD_COMMAND: 'the command is malformed or unknown',
  AGENT_ERR_TRAIN_FAILED: 'local training failed',
  AGENT_ERR_DATA_FORMAT: 'the local data set is malformed',
  AGENT_ERR_BACKEND: 'the requested TensorFlow.js backend is not available',
  AGENT_ERR_BAD_MODEL: 'the model topology cannot be loaded',
  AGENT_ERR_WEIGHTS_MISMATCH: 'the weights do not match the model topology',
  AGENT_ERR_BAD_OPTIONS: 'invalid training, evaluation or partition options',
  AGENT_ERR_CANNOT_RUN_FLOAT: 'this device profile runs int8 models only (no float kernels)',
  // Model store (agent/src/model-store): why a bundle is refused or an installed version did not stay active.
  AGENT_ERR_BAD_SIGNATURE: 'the bundle manifest is not signed by the hub key (tampered, other key, bad signature)',
  AGENT_ERR_BAD_BUNDLE: 'the bundle or its manifest is malformed',
  AGENT_ERR_PROFILE_MISMATCH: 'this device does not meet the bundle minimum profile',
  AGENT_ERR_BAD_BUNDLE_PAYLOAD: 'the bundle payload does not match its manifest (size or sha256)',
  AGENT_ERR_MODEL_LOAD: 'the model payload could not be loaded',
  AGENT_ERR_SELF_TEST_FAILED: 'the model failed its self-test on local held-out data',
  AGENT_ERR_MODEL_STORE: 'the on-device model store could not be read or written',
  // Serving (agent/src/serving): the local inference endpoint answers these in its JSON errors.
  AGENT_ERR_NO_MODEL: 'no model is active on this device',
  AGENT_ERR_BAD_INPUT: 'the inference input is malformed (wrong length, a value that is not a finite number)',
  AGENT_ERR_BAD_JSON: 'the request body is not valid JSON',
  AGENT_ERR_BODY_TOO_LARGE: 'the request body is larger than the endpoint accepts',
  AGENT_ERR_UNSUPPORTED_MEDIA_TYPE: 'the request content type is not accepted here',
  AGENT_ERR_NO_ROUTE: 'no such endpoint',
  AGENT_ERR_METHOD_NOT_ALLOWED: 'the endpoint does not accept this method',
  AGENT_ERR_UNKNOWN_REQUEST: 'no recent unlabelled prediction has this requestId',
  AGENT_ERR_INFERENCE_FAILED: 'the model failed to run on the input',
  AGENT_ERR_SERVE_FAILED: 'the local inference endpoint could not start',
  AGENT_ERR_BAD_HOST: 'the request names a host other than this loopback endpoint (DNS rebinding?)',
  AGENT_ERR_OVERLOADED: 'the endpoint holds as many request bodies as it can; retry shortly',
  AGENT_ERR_BAD_REQUEST: 'the request is not valid HTTP/1.1 (request line, headers or framing)',
  AGENT_ERR_REQUEST_TIMEOUT: 'the request did not arrive whole within the request timeout',
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES;

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${AGENT_ERROR_CODES[code]}: ${detail}` : AGENT_ERROR_CODES[code], options);
    this.name = 'AgentError';
    this.code = code;
  }
}

export function isAgentError(error: unknown): error is AgentError {
  return error instanceof AgentError;
}

export function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'AGENT_ERR_TRAIN_FAILED';
}
