import { randomUUID } from 'node:crypto';
import { ProtoError } from './errors.js';
import { Envelope, fedfleet, type BodyKind, type EnvelopeProps } from './messages.js';
import { DEVICE_PUBLISH_KINDS, type DeviceTopicKind } from './topics.js';

/** Default maximum size of one encoded Envelope: large enough for an fp32 update of a 2NN (~0.8 MB). */
export const DEFAULT_MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;

/** Which Envelope bodies may travel on which device topic. */
export const BODIES_BY_TOPIC: Readonly<Record<DeviceTopicKind, readonly BodyKind[]>> = {
  status: ['status'],
  telemetry: ['telemetry'],
  cmd: ['command'],
  reply: ['commandResult', 'progress', 'evalResult', 'calibrationReport', 'deployReport'],
  update: ['weightUpdate'],
  fetch: ['chunkRequest'],
  chunk: ['chunk'],
};

export type DecodedEnvelope = fedfleet.v1.Envelope & { body: BodyKind };

/**
 * Longest text a device may put in any field of what it sends — ids, versions, names, error codes, reasons. The hub
 * stores these and hands them out in every listing (`GET /v1/devices` holds each device's agent version), so one
 * lying device with a 4 MiB version would make every listing of the fleet carry it. Agents clamp their own text
 * to this ({@link clampDeviceStrings}); the hub refuses longer ones (PROTO_ERR_STRING_TOO_LONG).
 */
export const MAX_DEVICE_STRING_CHARS = 1024;

/** Topics devices publish on: their text is bounded. */
const DEVICE_TO_HUB: ReadonlySet<DeviceTopicKind> = new Set(DEVICE_PUBLISH_KINDS);

/** The path of the first string longer than `max` in a decoded message (fields, nested messages, repeated), if any. */
function overlongString(value: unknown, path: string, max: number): string | undefined {
  if (typeof value === 'string') return value.length > max ? path : undefined;
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return undefined;
  for (const [key, field] of Object.entries(value)) {
    // Numbers (tensor scales, histogram counts) hold no text: no path is built for them.
    if (typeof field !== 'string' && (typeof field !== 'object' || field === null)) continue;
    const found = overlongString(field, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, max);
    if (found) return found;
  }
  return undefined;
}

/**
 * A copy of `props` whose strings are at most {@link MAX_DEVICE_STRING_CHARS} long: longer ones (in practice, a
 * long error message as a reason) are cut and end in "…". What a device sends is then never refused for its text.
 */
export function clampDeviceStrings<T>(props: T): T {
  const clamp = (value: unknown): unknown => {
    if (typeof value === 'string') return value.length > MAX_DEVICE_STRING_CHARS ? `${value.slice(0, MAX_DEVICE_STRING_CHARS - 1)}…` : value;
    if (Array.isArray(value)) return value.map(clamp);
    // Plain objects only: typed arrays (tensor data), Longs and message instances pass as they are.
    if (!value || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, clamp(field)]));
  };
  return clamp(props) as T;
}

export interface DecodeOptions {
  /** Maximum accepted size in bytes. Default {@link DEFAULT_MAX_ENVELOPE_BYTES}. */
  maxBytes?: number;
  /** When set, the envelope's deviceId must equal it (the id in the topic). */
  deviceId?: string;
  /** When set, the body must be one this topic carries. */
  topicKind?: DeviceTopicKind;
}

/**
 * Decodes one Envelope. Any malformed, oversize or misplaced input becomes a {@link ProtoError} with a stable
 * code; nothing else is thrown.
 */
export function decodeEnvelope(bytes: Uint8Array, options: DecodeOptions = {}): DecodedEnvelope {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  if (bytes.byteLength > maxBytes) {
    throw new ProtoError('PROTO_ERR_TOO_LARGE', `${bytes.byteLength} bytes > ${maxBytes}`);
  }
  let message: fedfleet.v1.Envelope;
  try {
    message = Envelope.decode(bytes);
  } catch (error) {
    throw new ProtoError('PROTO_ERR_MALFORMED', (error as Error).message, { cause: error });
  }
  const body = message.body;
  if (!body || message[body] == null) throw new ProtoError('PROTO_ERR_EMPTY_BODY');
  if (options.topicKind && !BODIES_BY_TOPIC[options.topicKind].includes(body)) {
    throw new ProtoError('PROTO_ERR_WRONG_BODY', `${body} on ${options.topicKind}`);
  }
  if (options.deviceId !== undefined && message.deviceId !== options.deviceId) {
    throw new ProtoError('PROTO_ERR_DEVICE_MISMATCH', `${message.deviceId} != ${options.deviceId}`);
  }
  if (options.topicKind && DEVICE_TO_HUB.has(options.topicKind)) {
    const field = overlongString(message[body], body, MAX_DEVICE_STRING_CHARS) ?? overlongString(message.msgId, 'msgId', MAX_DEVICE_STRING_CHARS);
    if (field) throw new ProtoError('PROTO_ERR_STRING_TOO_LONG', `${field} is longer than ${MAX_DEVICE_STRING_CHARS} characters`);
  }
  return message as DecodedEnvelope;
}

export interface EncodeOptions {
  /** Maximum size in bytes; encoding a larger envelope throws PROTO_ERR_TOO_LARGE. */
  maxBytes?: number;
  /** Clock for `sentAtMs` (injected in tests). */
  now?: () => number;
}

/**
 * Builds and encodes an Envelope. `msgId` defaults to a random UUID and `sentAtMs` to now.
 */
export function encodeEnvelope(props: EnvelopeProps, options: EncodeOptions = {}): Uint8Array {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  const full: EnvelopeProps = {
    ...props,
    msgId: props.msgId || randomUUID(),
    sentAtMs: props.sentAtMs ?? (options.now ?? Date.now)(),
  };
  const bytes = Envelope.encode(full).finish();
  if (bytes.byteLength > maxBytes) {
    throw new ProtoError('PROTO_ERR_TOO_LARGE', `${bytes.byteLength} bytes > ${maxBytes}`);
  }
  return bytes;
}
