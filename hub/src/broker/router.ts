/**
 * Dispatch of device traffic by topic kind (STYLE 8): every payload is decoded and checked against its topic
 * once, here; handlers receive a typed envelope and never see bad bytes. A malformed, oversize or misplaced
 * payload is counted per code and logged with the device id, and the hub carries on. QoS 1 redeliveries are
 * dropped by `msgId` ([MQTT-4.3.2]).
 */
import {
  decodeEnvelope,
  isProtoError,
  parseDeviceTopic,
  type DecodedEnvelope,
  type DeviceTopicKind,
} from '@fedfleet/proto';
import type { HubLogger } from '../logger.js';
import type { Clock } from '../clock.js';
import type { HubMetrics } from '../metrics/hub-metrics.js';
import { createDedupeCache } from './dedupe-cache.js';

/** A device message as the transport hands it over. */
export interface RawDeviceMessage {
  topic: string;
  payload: Uint8Array;
  /** The MQTT session that sent it (see Broker.currentSession). */
  sessionId: number;
  retained: boolean;
  /** True when the broker publishes the session's last will (the device is gone). */
  viaWill: boolean;
}

/** A decoded, validated device message. */
export interface DeviceMessage {
  deviceId: string;
  kind: DeviceTopicKind;
  envelope: DecodedEnvelope;
  sessionId: number;
  /** True for the session's last will, published by the broker after the connection was lost. */
  viaWill: boolean;
  receivedAtMs: number;
}

/**
 * Handles one kind of device message. May be async: the broker acknowledges a QoS 1 publish only after every
 * handler settled, so a handler that commits state before returning gives the device commit-before-ack.
 */
export type MessageHandler = (message: DeviceMessage) => void | Promise<void>;

export interface Router {
  /** Adds a handler for one topic kind; handlers of a kind run in registration order. Returns its remover. */
  on(kind: DeviceTopicKind, handler: MessageHandler): () => void;
  /** Adds a handler that sees every accepted message before the kind's own handlers (liveness uses it). */
  onEvery(handler: MessageHandler): () => void;
  /** Decodes, checks, de-duplicates and dispatches one message. Never rejects. */
  dispatch(raw: RawDeviceMessage): Promise<void>;
}

export interface RouterOptions {
  maxPayloadBytes: number;
  clock: Clock;
  log: HubLogger;
  metrics: HubMetrics;
  /** How long a msgId is remembered. Default 10 minutes. */
  dedupeWindowMs?: number;
  /** Most msgIds remembered. Default 100 000 (a few MB). */
  dedupeMaxEntries?: number;
}

export function createRouter(options: RouterOptions): Router {
  const { clock, log, metrics } = options;
  const handlers = new Map<DeviceTopicKind, MessageHandler[]>();
  const everyHandlers: MessageHandler[] = [];
  const dedupe = createDedupeCache({
    windowMs: options.dedupeWindowMs ?? 10 * 60_000,
    maxEntries: options.dedupeMaxEntries ?? 100_000,
  });

  function add(list: MessageHandler[], handler: MessageHandler): () => void {
    list.push(handler);
    return () => {
      const index = list.indexOf(handler);
      if (index >= 0) list.splice(index, 1);
    };
  }

  function failed(error: unknown, message: DeviceMessage): void {
    metrics.handlerErrors.inc({ kind: message.kind });
    log.error({ err: error, deviceId: message.deviceId, kind: message.kind, msgId: message.envelope.msgId }, 'topic handler failed');
  }

  /**
   * Runs handlers in order; synchronous ones run synchronously, so messages of one device that arrive together
   * are handled in arrival order unless a handler itself waits.
   */
  function runAll(list: readonly MessageHandler[], message: DeviceMessage, from = 0): Promise<void> | undefined {
    for (let i = from; i < list.length; i++) {
      let result: void | Promise<void>;
      try {
        result = list[i]!(message);
      } catch (error) {
        failed(error, message);
        continue;
      }
      if (result && typeof result.then === 'function') {
        return result.then(
          () => runAll(list, message, i + 1),
          (error: unknown) => {
            failed(error, message);
            return runAll(list, message, i + 1);
          },
        );
      }
    }
    return undefined;
  }

  function reject(code: string, deviceId: string | undefined, topic: string, detail: string): void {
    metrics.mqttRejected.inc({ code });
    log.warn({ deviceId, topic, code, detail }, 'device payload rejected');
  }

  return {
    on(kind, handler) {
      let list = handlers.get(kind);
      if (!list) handlers.set(kind, (list = []));
      return add(list, handler);
    },
    onEvery: (handler) => add(everyHandlers, handler),
    async dispatch(raw) {
      const parsed = parseDeviceTopic(raw.topic);
      if (!parsed) return reject('PROTO_ERR_BAD_TOPIC', undefined, raw.topic, 'not a device topic');
      const { deviceId, kind } = parsed;
      // An empty retained publish clears the retained status ([MQTT-3.3.1-10]); it is not a message.
      if (raw.payload.byteLength === 0 && kind === 'status' && raw.retained) return;
      let envelope: DecodedEnvelope;
      try {
        envelope = decodeEnvelope(raw.payload, { maxBytes: options.maxPayloadBytes, deviceId, topicKind: kind });
      } catch (error) {
        if (!isProtoError(error)) throw error;
        return reject(error.code, deviceId, raw.topic, error.message);
      }
      const receivedAtMs = clock.now();
      if (envelope.msgId && dedupe.seen(`${deviceId}\u0000${envelope.msgId}`, receivedAtMs)) {
        metrics.mqttDuplicates.inc({ kind });
        log.debug({ deviceId, kind, msgId: envelope.msgId }, 'duplicate message dropped');
        return;
      }
      metrics.mqttMessages.inc({ kind });
      const message: DeviceMessage = { deviceId, kind, envelope, sessionId: raw.sessionId, viaWill: raw.viaWill, receivedAtMs };
      const list = [...everyHandlers, ...(handlers.get(kind) ?? [])];
      await runAll(list, message);
    },
  };
}
