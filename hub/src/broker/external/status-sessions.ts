/**
 * Device sessions as the hub sees them through an external broker, which tells a client nothing of other clients'
 * connections (DESIGN section 8: "liveness then comes from the broker's presence"). A device's Status ONLINE — or
 * any other message from a device without a session — opens a session with a new id; its Status OFFLINE (its last
 * will, or a goodbye) closes it. The hub's heartbeat timeout (fleet/liveness.ts) still catches a device whose will
 * never arrives. Session ids let liveness ignore messages of a replaced session, as with the embedded broker.
 */
import { DeviceState, decodeEnvelope, isProtoError } from '@fedfleet/proto';
import type { TypedEmitter } from '../../events/typed-emitter.js';
import type { BrokerEventMap, SessionCloseReason } from '../broker.js';

/** What a Status payload says about presence; undefined when it says neither (or does not decode). */
export function statusPresence(payload: Uint8Array, deviceId: string, maxBytes: number): 'online' | 'offline' | undefined {
  try {
    const state = decodeEnvelope(payload, { maxBytes, deviceId, topicKind: 'status' }).status?.state;
    if (state === DeviceState.DEVICE_STATE_ONLINE) return 'online';
    if (state === DeviceState.DEVICE_STATE_OFFLINE) return 'offline';
    return undefined;
  } catch (error) {
    if (isProtoError(error)) return undefined; // the router rejects and counts it
    throw error;
  }
}

export interface StatusSessions {
  /** The device's session, opened (and announced) first if it has none. */
  open(deviceId: string): number;
  /** Ends the device's session (announced with `reason`); no-op without one. */
  close(deviceId: string, reason: SessionCloseReason): void;
  current(deviceId: string): number | undefined;
  count(): number;
}

export function createStatusSessions(events: TypedEmitter<BrokerEventMap>): StatusSessions {
  const sessions = new Map<string, number>();
  let nextSessionId = 1;
  return {
    open(deviceId) {
      const existing = sessions.get(deviceId);
      if (existing !== undefined) return existing;
      const sessionId = nextSessionId++;
      sessions.set(deviceId, sessionId);
      events.emit('session.open', { deviceId, sessionId });
      return sessionId;
    },
    close(deviceId, reason) {
      const sessionId = sessions.get(deviceId);
      if (sessionId === undefined) return;
      sessions.delete(deviceId);
      events.emit('session.close', { deviceId, sessionId, reason });
    },
    current: (deviceId) => sessions.get(deviceId),
    count: () => sessions.size,
  };
}
