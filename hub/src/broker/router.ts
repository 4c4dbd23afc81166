/**
 * Dispatch of device traffic by topic kind (STYLE 8): every payload is decoded and checked against its topic
 * once, here; handlers receive a typed envelope and never see bad bytes. A malformed, oversize or misplaced
 * payload is counted per code and logged with the device id, and the hub carries on. QoS 1 redeliveries are
 * dropped by `msgId` ([MQTT-4.3.2]). Each device is held to per-kind message and byte rates (device-rate-limiter.ts)
 * before anything is decoded. The verdict goes back to the transport, which keeps (retains, forwards) only what was
 * accepted.
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
import { DEFAULT_CONFIG } from '../config.js';
import type { HubMetrics } from '../metrics/hub-metrics.js';
import { createDedupeCache } from './dedupe-cache.js';
import { createDeviceRateLimiter, type DeviceRateLimiterOptions, type RateDecision } from './device-rate-limiter.js';
import { createLogThrottle } from '../limits/log-throttle.js';

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

/**
 * What became of a message: `accepted` (handlers ran), `cleared` (an empty retained status: the retained-status
 * delete [MQTT-3.3.1-10]), or dropped as `rejected` (bad topic or payload), `duplicate` or `rate-limited`.
 */
export type DispatchOutcome = 'accepted' | 'cleared' | 'rejected' | 'duplicate' | 'rate-limited';

export interface DispatchResult {
  outcome: DispatchOutcome;
  /** The topic kind, when the topic was a device topic. */
  kind?: DeviceTopicKind;
}

export interface Router {
  /** Adds a handler for one topic kind; handlers of a kind run in registration order. Returns its remover. */
  on(kind: DeviceTopicKind, handler: MessageHandler): () => void;
  /** Adds a handler that sees every accepted message before the kind's own handlers (liveness uses it). */
  onEvery(handler: MessageHandler): () => void;
  /** Rate-limits, decodes, checks, de-duplicates and dispatches one message; resolves to its fate. Never rejects. */
  dispatch(raw: RawDeviceMessage): Promise<DispatchResult>;
}

export interface RouterOptions {
  maxPayloadBytes: number;
  clock: Clock;
  log: HubLogger;
  metrics: HubMetrics;
  /** Per-device limits. Default: DEFAULT_DEVICE_RATE_LIMITS, the default deviceBytesPerSec, a burst of 4 × maxPayloadBytes. */
  rateLimits?: DeviceRateLimiterOptions;
  /** Shortest gap between two "dropped by rate limit" warnings about one device, in milliseconds. Default 10 s. */
  rateLimitLogIntervalMs?: number;
  /** How long a msgId is remembered, in milliseconds. Default 10 minutes. */
  dedupeWindowMs?: number;
  /** How many of a device's latest msgIds are remembered at least (at most twice this many). Default 4096. */
  dedupePerDeviceMaxEntries?: number;
}

export function createRouter(options: RouterOptions): Router {
  const { clock, log, metrics } = options;
  const handlers = new Map<DeviceTopicKind, MessageHandler[]>();
  const everyHandlers: MessageHandler[] = [];
  const limiter = createDeviceRateLimiter(
    options.rateLimits ?? { bytesPerSec: DEFAULT_CONFIG.deviceBytesPerSec, burstBytes: 4 * options.maxPayloadBytes },
  );
  const rateLimitLog = createLogThrottle(options.rateLimitLogIntervalMs ?? 10_000);
  const dedupe = createDedupeCache({ windowMs: options.dedupeWindowMs, perDeviceMaxEntries: options.dedupePerDeviceMaxEntries });

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

  /**
   * A message over its device's limit is dropped, not answered by disconnecting: a disconnected device reconnects and
   * its client re-sends every unacknowledged QoS 1 message [MQTT-4.4.0-1], which feeds the flood instead of ending
   * it. So the broker still sends the PUBACK and the message goes nowhere.
   */
  function rateLimited(deviceId: string, kind: DeviceTopicKind, limit: Exclude<RateDecision, 'allowed'>, nowMs: number): DispatchResult {
    metrics.mqttRateLimited.inc({ kind, limit });
    const dropped = rateLimitLog.note(deviceId, nowMs);
    if (dropped !== undefined) log.warn({ deviceId, kind, limit, dropped }, 'device messages dropped by rate limit');
    return { outcome: 'rate-limited', kind };
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
      if (!parsed) {
        reject('PROTO_ERR_BAD_TOPIC', undefined, raw.topic, 'not a device topic');
        return { outcome: 'rejected' };
      }
      const { deviceId, kind } = parsed;
      // A last will comes once per session and is how the hub learns the device is gone: never dropped for rate.
      if (!raw.viaWill) {
        const nowMs = clock.now();
        const decision = limiter.admit(deviceId, kind, raw.payload.byteLength, nowMs);
        if (decision !== 'allowed') return rateLimited(deviceId, kind, decision, nowMs);
      }
      // An empty retained publish clears the retained status ([MQTT-3.3.1-10]); it is not a message.
      if (raw.payload.byteLength === 0 && kind === 'status' && raw.retained) return { outcome: 'cleared', kind };
      let envelope: DecodedEnvelope;
      try {
        envelope = decodeEnvelope(raw.payload, { maxBytes: options.maxPayloadBytes, deviceId, topicKind: kind });
      } catch (error) {
        if (!isProtoError(error)) throw error;
        reject(error.code, deviceId, raw.topic, error.message);
        return { outcome: 'rejected', kind };
      }
      const receivedAtMs = clock.now();
      if (envelope.msgId && dedupe.seen(deviceId, envelope.msgId, receivedAtMs)) {
        metrics.mqttDuplicates.inc({ kind });
        log.debug({ deviceId, kind, msgId: envelope.msgId }, 'duplicate message dropped');
        return { outcome: 'duplicate', kind };
      }
      metrics.mqttMessages.inc({ kind });
      // Device clocks are not the hub's: a device ahead of the hub would show a negative lag, counted as 0.
      if (envelope.sentAtMs) metrics.mqttMessageLag.observe({ kind }, Math.max(0, receivedAtMs - envelope.sentAtMs) / 1000);
      const message: DeviceMessage = { deviceId, kind, envelope, sessionId: raw.sessionId, viaWill: raw.viaWill, receivedAtMs };
      const list = [...everyHandlers, ...(handlers.get(kind) ?? [])];
      await runAll(list, message);
      return { outcome: 'accepted', kind };
    },
  };
}
