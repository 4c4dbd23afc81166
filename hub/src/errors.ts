/**
 * The hub's error registry. Every error the hub reports carries one of these stable codes; HTTP responses carry
 * it in their JSON body (`{ error: { code, message } }`) and the CLI prints it. Callers branch on `code`, never on
 * the message text. Codes are stable: add new ones, never rename. Each code is documented in hub/docs/error-codes.md (a test
 * checks it).
 */
export const HUB_ERRORS = {
  HUB_ERR_VALIDATION: { statusCode: 400, message: 'request does not match the schema' },
  HUB_ERR_BAD_REQUEST: { statusCode: 400, message: 'malformed request' },
  HUB_ERR_BAD_SELECTOR: { statusCode: 400, message: 'invalid label selector' },
  HUB_ERR_BAD_LABELS: { statusCode: 400, message: 'invalid label change' },
  HUB_ERR_TELEMETRY_QUERY: { statusCode: 400, message: 'invalid telemetry query' },
  HUB_ERR_UNAUTHORIZED: { statusCode: 401, message: 'missing or wrong admin token' },
  HUB_ERR_TOKEN_INVALID: { statusCode: 401, message: 'unknown or revoked enrollment token' },
  HUB_ERR_TOKEN_EXHAUSTED: { statusCode: 403, message: 'enrollment token has no uses left' },
  HUB_ERR_NOT_FOUND: { statusCode: 404, message: 'no such route' },
  HUB_ERR_DEVICE_NOT_FOUND: { statusCode: 404, message: 'no such device' },
  HUB_ERR_TOKEN_NOT_FOUND: { statusCode: 404, message: 'no such enrollment token' },
  HUB_ERR_ARTIFACT_NOT_FOUND: { statusCode: 404, message: 'no such artifact' },
  HUB_ERR_TOKEN_EXPIRED: { statusCode: 410, message: 'enrollment token has expired' },
  HUB_ERR_PAYLOAD_TOO_LARGE: { statusCode: 413, message: 'request body too large' },
  HUB_ERR_REQUEST_TIMEOUT: { statusCode: 408, message: 'the request was not received in full within httpRequestTimeoutSec' },
  HUB_ERR_HEADERS_TOO_LARGE: { statusCode: 431, message: 'request header fields too large' },
  HUB_ERR_EXPECTATION_FAILED: { statusCode: 417, message: 'unsupported Expect header (only 100-continue)' },
  HUB_ERR_UNSUPPORTED_ENCODING: { statusCode: 415, message: 'request body in a content or transfer coding the hub does not decode' },
  HUB_ERR_RATE_LIMITED: { statusCode: 429, message: 'too many requests from this client; retry after the Retry-After header' },
  HUB_ERR_CHUNK_OUT_OF_RANGE: { statusCode: 416, message: 'chunk index beyond the end of the artifact' },
  HUB_ERR_INTERNAL: { statusCode: 500, message: 'internal error' },
  HUB_ERR_CONFIG_INVALID: { statusCode: 500, message: 'invalid configuration' },
  HUB_ERR_MIGRATION_FAILED: { statusCode: 500, message: 'database migration failed' },
  // Starting a hub (never HTTP responses, the status is nominal)
  HUB_ERR_DATA_DIR_LOCKED: { statusCode: 409, message: 'the data directory is in use by another hub' },
  HUB_ERR_PORT_IN_USE: { statusCode: 409, message: 'a port the hub should listen on is already in use' },
  HUB_ERR_LISTEN_FAILED: { statusCode: 500, message: 'the hub cannot listen on the configured address' },
  HUB_ERR_BROKER_CLOSED: { statusCode: 503, message: 'the MQTT broker is closed' },
  HUB_ERR_BROKER_UNAVAILABLE: { statusCode: 503, message: 'the external MQTT broker is not connected' },
  HUB_ERR_BROKER_REFUSED: { statusCode: 502, message: 'the external MQTT broker refused the hub\'s connection (brokerUsername / brokerPassword)' },
  HUB_ERR_BROKER_PROVISIONING: { statusCode: 502, message: 'the external broker\'s dynamic-security plugin refused a command' },
  // MQTT connections closed by the broker's stream guard (never HTTP responses, the status is nominal)
  HUB_ERR_MQTT_PACKET_TOO_LARGE: { statusCode: 413, message: 'an MQTT packet header announced more than the limit' },
  HUB_ERR_MQTT_CONNECT_TOO_LARGE: { statusCode: 413, message: 'an unauthenticated MQTT connection sent more than mqttMaxConnectBytes' },
  HUB_ERR_MQTT_CONNECT_TIMEOUT: { statusCode: 408, message: 'an MQTT connection was not accepted within mqttConnectTimeoutSec' },
  HUB_ERR_MQTT_MALFORMED_HEADER: { statusCode: 400, message: 'an MQTT Remaining Length longer than four bytes' },
  HUB_ERR_MQTT_PROTOCOL_LEVEL: { statusCode: 400, message: 'an MQTT CONNECT with a protocol level the broker does not speak (answered with CONNACK 0x01)' },
  HUB_ERR_MQTT_UNRELEASED_BACKLOG: { statusCode: 429, message: 'an MQTT client id holds the most QoS 2 messages awaiting PUBREL the broker keeps' },
  HUB_ERR_CLI_USAGE: { statusCode: 400, message: 'wrong command line' },
  HUB_ERR_NO_ADMIN_TOKEN: { statusCode: 401, message: 'no admin token: pass --token, set FEDFLEET_ADMIN_TOKEN or point --data-dir at the hub data' },
  HUB_ERR_HUB_UNREACHABLE: { statusCode: 503, message: 'cannot reach the hub' },
  HUB_ERR_CLI_UNAVAILABLE: { statusCode: 501, message: 'this command is not available in this installation' },
  HUB_ERR_DOWNLOAD_CORRUPT: { statusCode: 502, message: 'the downloaded file does not match the sha256 the hub announced' },
  // Models
  HUB_ERR_MODEL_NOT_FOUND: { statusCode: 404, message: 'no such model' },
  HUB_ERR_VERSION_NOT_FOUND: { statusCode: 404, message: 'no such model version' },
  HUB_ERR_MODEL_EXISTS: { statusCode: 409, message: 'a model with this name exists' },
  HUB_ERR_MODEL_INVALID: { statusCode: 400, message: 'the model cannot be imported' },
  HUB_ERR_UNKNOWN_ARCHITECTURE: { statusCode: 400, message: 'no such built-in architecture' },
  HUB_ERR_EXPORT_UNSUPPORTED: { statusCode: 422, message: 'the model has a layer the requested export format does not support' },
  HUB_ERR_NOT_QUANTIZED: { statusCode: 409, message: 'the version has no completed int8 quantization' },
  // Validation sets
  HUB_ERR_DATASET_NOT_FOUND: { statusCode: 404, message: 'no such data set' },
  HUB_ERR_DATASET_EXISTS: { statusCode: 409, message: 'a data set with this name exists' },
  HUB_ERR_DATASET_INVALID: { statusCode: 400, message: 'the data set is malformed' },
  // Hub-side evaluation (hub/src/ml; never an HTTP response, the status is nominal)
  HUB_ERR_EVALUATION_FAILED: { statusCode: 500, message: 'hub-side evaluation failed' },
  // Federated rounds
  HUB_ERR_ROUND_BAD_CONFIG: { statusCode: 400, message: 'invalid campaign configuration' },
  HUB_ERR_CAMPAIGN_NOT_FOUND: { statusCode: 404, message: 'no such campaign' },
  HUB_ERR_CAMPAIGN_FINISHED: { statusCode: 409, message: 'the campaign is no longer running' },
  HUB_ERR_CAMPAIGN_UNUSABLE: { statusCode: 500, message: 'a stored campaign cannot be resumed: its row is unusable' },
  HUB_ERR_ROUND_IMPOSSIBLE: { statusCode: 400, message: 'too few devices matching the selector could ever take part' },
  HUB_ERR_ILLEGAL_TRANSITION: { statusCode: 500, message: 'a state change the round, campaign, quantization or rollout state table does not allow' },
  // Why a round or campaign failed (stored as its errorCode; never HTTP responses, the status is nominal)
  HUB_ERR_ROUND_NO_ELIGIBLE: { statusCode: 503, message: 'too few eligible devices came online before the selection timeout' },
  HUB_ERR_ROUND_SELECTION_FAILED: { statusCode: 500, message: 'selecting the participants of a round failed' },
  HUB_ERR_ROUND_TOO_FEW_UPDATES: { statusCode: 503, message: 'the round closed with fewer valid updates than minClients' },
  HUB_ERR_ROUND_AGGREGATION_FAILED: { statusCode: 500, message: 'aggregating the updates of a round failed' },
  HUB_ERR_ROUND_CANCELLED: { statusCode: 409, message: 'the round was cancelled with its campaign' },
  HUB_ERR_CAMPAIGN_CANCELLED: { statusCode: 409, message: 'the campaign was cancelled by an operator' },
  // Quantization jobs (hub/src/quantize)
  HUB_ERR_QUANTIZATION_NOT_FOUND: { statusCode: 404, message: 'no such quantization job' },
  HUB_ERR_QUANTIZATION_BAD_REQUEST: { statusCode: 400, message: 'invalid quantization request' },
  HUB_ERR_QUANTIZATION_NO_DEVICES: { statusCode: 409, message: 'too few online eligible devices to calibrate on the fleet' },
  // Why a quantization job failed or a device's report was rejected (stored; never HTTP responses, the status is nominal)
  HUB_ERR_QUANTIZATION_TOO_FEW_REPORTS: { statusCode: 503, message: 'calibration ended with fewer valid device reports than minDevices' },
  HUB_ERR_QUANTIZATION_BUILD_FAILED: { statusCode: 500, message: 'building the int8 model from the calibration statistics failed' },
  HUB_ERR_QUANTIZATION_INTERRUPTED: { statusCode: 500, message: 'the hub stopped while the quantization job ran' },
  HUB_ERR_CALIBRATION_REPORT_INVALID: { statusCode: 422, message: 'a calibration report that does not fit the job or the model' },
  HUB_ERR_EVAL_RESULT_INVALID: { statusCode: 422, message: 'an eval result whose loss, accuracy or example count makes no sense' },
  // Rollouts (hub/src/rollouts)
  HUB_ERR_ROLLOUT_NOT_FOUND: { statusCode: 404, message: 'no such rollout' },
  HUB_ERR_ROLLOUT_BAD_REQUEST: { statusCode: 400, message: 'invalid rollout request' },
  HUB_ERR_ROLLOUT_STATE: { statusCode: 409, message: 'the rollout is not in a state that allows this action' },
  // Why a rollout ended or a target failed or was skipped (stored; never HTTP responses, the status is nominal)
  HUB_ERR_ROLLOUT_ABORTED: { statusCode: 409, message: 'the rollout was aborted by an operator' },
  HUB_ERR_ROLLOUT_ERROR_THRESHOLD: { statusCode: 409, message: 'more devices of a wave failed than its error threshold allows' },
  HUB_ERR_ROLLOUT_SUCCESS_THRESHOLD: { statusCode: 409, message: 'every device of a wave answered and too few were healthy' },
  HUB_ERR_ROLLOUT_SHADOW_WORSE: { statusCode: 409, message: 'in a shadow wave the new version was less accurate than the serving one' },
  HUB_ERR_ROLLOUT_SUPERSEDED: { statusCode: 409, message: 'a newer rollout of the same model took the device over' },
  HUB_ERR_ROLLOUT_GATE_FAILED: { statusCode: 422, message: 'the device\'s self-test of the new version failed the health gate' },
  HUB_ERR_ROLLOUT_DEVICE_TIMEOUT: { statusCode: 504, message: 'an online device did not answer within deviceTimeoutSec' },
  HUB_ERR_ROLLOUT_NOT_SERVING: { statusCode: 409, message: 'the device stopped serving the version during its wave' },
  HUB_ERR_ROLLOUT_PROFILE_MISMATCH: { statusCode: 422, message: 'the device\'s profile does not meet the bundle\'s minimum profile' },
  HUB_ERR_ROLLOUT_DEVICE_REVOKED: { statusCode: 410, message: 'the device was revoked during the rollout' },
  HUB_ERR_ROLLOUT_NO_REPORT: { statusCode: 502, message: 'the device ended the command without reporting the activation' },
  // Alerts (hub/src/health)
  HUB_ERR_ALERT_NOT_FOUND: { statusCode: 404, message: 'no such alert' },
  // Closed-loop policies (hub/src/loop)
  HUB_ERR_LOOP_POLICY_NOT_FOUND: { statusCode: 404, message: 'no such loop policy' },
  HUB_ERR_LOOP_POLICY_BAD_REQUEST: { statusCode: 400, message: 'invalid loop policy' },
  HUB_ERR_LOOP_POLICY_NAME_TAKEN: { statusCode: 409, message: 'a loop policy already has that name' },
  // Rejected weight updates (counted per device; never HTTP responses, the status is nominal)
  HUB_ERR_UPDATE_UNKNOWN_ROUND: { statusCode: 422, message: 'update for a round this hub does not know' },
  HUB_ERR_UPDATE_NOT_SELECTED: { statusCode: 422, message: 'update from a device not selected for the round' },
  HUB_ERR_UPDATE_DUPLICATE: { statusCode: 422, message: 'second update from a device for one round' },
  HUB_ERR_UPDATE_LATE: { statusCode: 422, message: 'update after the round stopped taking updates' },
  HUB_ERR_UPDATE_BASE_MISMATCH: { statusCode: 422, message: 'update trained on another base version' },
  HUB_ERR_UPDATE_EXAMPLE_COUNT: { statusCode: 422, message: 'update example count is not a plausible positive integer' },
  HUB_ERR_UPDATE_SHAPE: { statusCode: 422, message: 'update tensors do not match the model' },
  HUB_ERR_UPDATE_NON_FINITE: { statusCode: 422, message: 'update contains NaN or infinite values' },
  HUB_ERR_UPDATE_NORM: { statusCode: 422, message: 'update L2 norm exceeds the bound' },
  HUB_ERR_UPDATE_MALFORMED: { statusCode: 422, message: 'update tensors are malformed or answer another task' },
  // Aggregation strategies (hub/src/rounds/strategies)
  HUB_ERR_STRATEGY_UNKNOWN: { statusCode: 400, message: 'unknown aggregation strategy' },
  HUB_ERR_STRATEGY_OPTIONS: { statusCode: 400, message: 'invalid aggregation strategy options' },
  HUB_ERR_STRATEGY_STATE: { statusCode: 500, message: 'server optimizer state is invalid or does not match the model' },
  HUB_ERR_AGG_NO_UPDATES: { statusCode: 500, message: 'cannot aggregate a round without updates' },
  HUB_ERR_AGG_TOO_FEW_UPDATES: { statusCode: 500, message: 'too few updates for this aggregation strategy' },
  HUB_ERR_AGG_SHAPE_MISMATCH: { statusCode: 500, message: 'update does not match the tensors of the global model' },
  HUB_ERR_AGG_NON_FINITE: { statusCode: 500, message: 'update contains NaN or infinite values' },
  HUB_ERR_AGG_BAD_EXAMPLE_COUNT: { statusCode: 500, message: 'update example count must be a positive finite number' },
  HUB_ERR_AGG_DUPLICATE_DEVICE: { statusCode: 500, message: 'device already contributed an update to this aggregation' },
  HUB_ERR_AGG_FINISHED: { statusCode: 500, message: 'aggregation already finished' },
  HUB_ERR_AGG_STALE: { statusCode: 500, message: 'server optimizer state changed since this aggregation began' },
} as const satisfies Record<string, { statusCode: number; message: string }>;

export type HubErrorCode = keyof typeof HUB_ERRORS;

export const HUB_ERROR_CODES = Object.keys(HUB_ERRORS) as HubErrorCode[];

export interface HubErrorOptions {
  /** Replaces the registry's message; the code stays. */
  message?: string;
  /** Extra machine-readable details returned to the client (e.g. every configuration violation). */
  details?: unknown;
  cause?: unknown;
}

export class HubError extends Error {
  readonly code: HubErrorCode;
  readonly statusCode: number;
  readonly details: unknown;

  constructor(code: HubErrorCode, options: HubErrorOptions = {}) {
    super(options.message ?? HUB_ERRORS[code].message, { cause: options.cause });
    this.name = 'HubError';
    this.code = code;
    this.statusCode = HUB_ERRORS[code].statusCode;
    this.details = options.details;
  }
}

export function isHubError(error: unknown): error is HubError {
  return error instanceof HubError;
}

export function isHubErrorCode(code: unknown): code is HubErrorCode {
  return typeof code === 'string' && Object.hasOwn(HUB_ERRORS, code);
}
