/**
 * Error registry of the wire contract. Callers branch on `code`, never on the message text.
 * Codes are stable: add new ones, never rename.
 */
export const PROTO_ERROR_CODES = {
  PROTO_ERR_TOO_LARGE: 'payload exceeds the maximum envelope size',
  PROTO_ERR_MALFORMED: 'payload is not a valid protobuf Envelope',
  PROTO_ERR_EMPTY_BODY: 'envelope carries no body or a body this version does not know',
  PROTO_ERR_WRONG_BODY: 'envelope body does not belong on this topic',
  PROTO_ERR_DEVICE_MISMATCH: 'envelope deviceId does not match the topic',
  PROTO_ERR_BAD_TOPIC: 'topic is not a fedfleet v1 device topic',
  PROTO_ERR_BAD_TENSOR: 'tensor data does not match its shape or encoding',
  PROTO_ERR_NON_FINITE: 'tensor contains NaN or infinite values',
  PROTO_ERR_OUT_OF_RANGE: 'value does not fit the target encoding',
  PROTO_ERR_BAD_QUANT_PARAMS: 'quantization parameters are invalid',
  PROTO_ERR_BAD_TOPOLOGY: 'model topology is malformed or its shapes are inconsistent',
  PROTO_ERR_UNSUPPORTED_LAYER: 'model topology has a layer or activation the MCU resource model or the int8 path does not support',
  PROTO_ERR_DOES_NOT_FIT: 'model does not fit the device profile',
  PROTO_ERR_BAD_CALIBRATION: 'calibration statistics are malformed or do not belong together',
  PROTO_ERR_BAD_TFLITE: 'file is not a TensorFlow Lite model this version can read or run',
  PROTO_ERR_BAD_BUNDLE: 'model bundle or manifest is malformed, not canonical, or of a version this one cannot read',
  PROTO_ERR_BAD_SIGNATURE: 'bundle manifest signature does not verify with the hub key',
  PROTO_ERR_BAD_PAYLOAD: 'bundle payload size or sha256 differs from its signed manifest',
  PROTO_ERR_STRING_TOO_LONG: 'a text field of a device message is longer than MAX_DEVICE_STRING_CHARS',
} as const;

export type ProtoErrorCode = keyof typeof PROTO_ERROR_CODES;

export class ProtoError extends Error {
  readonly code: ProtoErrorCode;
  constructor(code: ProtoErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${PROTO_ERROR_CODES[code]}: ${detail}` : PROTO_ERROR_CODES[code], options);
    this.name = 'ProtoError';
    this.code = code;
  }
}

export function isProtoError(error: unknown): error is ProtoError {
  return error instanceof ProtoError;
}
