import { randomUUID } from 'node:crypto';
import { ProtoError } from './errors.js';
import { Envelope, fedfleet, type BodyKind, type EnvelopeProps } from './messages.js';
import type { DeviceTopicKind } from './topics.js';

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
