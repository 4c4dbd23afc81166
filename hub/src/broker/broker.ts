/**
 * What the rest of the hub sees of MQTT. The embedded aedes broker implements it today (aedes-broker.ts); an
 * external-broker mode (DESIGN section 8: the hub as a client of Mosquitto/EMQX with shared subscriptions) can
 * implement it later without touching callers.
 */
import type { Duplex } from 'node:stream';
import type { EnvelopeProps } from '@fedfleet/proto';
import type { TypedEmitter } from '../events/typed-emitter.js';
import type { Router } from './router.js';

/** Topic kinds the hub sends to devices. */
export type HubToDeviceKind = 'cmd' | 'chunk';

export interface BrokerAddress {
  /** e.g. `mqtt://127.0.0.1:1883` — connectable (a wildcard bind address is reported as loopback). */
  url: string;
  host: string;
  port: number;
}

export type SessionCloseReason = 'disconnected' | 'keepalive-timeout' | 'revoked' | 'taken-over';

export interface BrokerEventMap {
  /** A device's MQTT session was accepted. `sessionId` increases with every connection. */
  'session.open': { deviceId: string; sessionId: number };
  /**
   * A device's MQTT session ended. Its last will, if any, is routed around the same time (synchronous handlers see it
   * first); consumers should not depend on the order.
   */
  'session.close': { deviceId: string; sessionId: number; reason: SessionCloseReason };
}

export interface Broker {
  /** Device traffic dispatch: register topic handlers here (`broker.router.on('update', handler)`). */
  readonly router: Router;
  readonly events: TypedEmitter<BrokerEventMap>;
  /** Starts accepting MQTT connections. */
  listen(options: { port: number; host: string }): Promise<BrokerAddress>;
  /**
   * Serves one MQTT connection that arrived over another transport (a WebSocket stream): the same authentication,
   * ACL and routing as the TCP listener.
   */
  handleConnection(stream: Duplex): void;
  /** The bound address once listening. */
  address(): BrokerAddress | undefined;
  /**
   * Publishes one envelope to `ff/v1/dev/{deviceId}/{kind}` with QoS 1. `deviceId` in the envelope is set to the
   * target. Resolves once the broker has taken the message; delivery to a disconnected device depends on its
   * session (a persistent session receives it on reconnect).
   */
  sendToDevice(deviceId: string, kind: HubToDeviceKind, envelope: EnvelopeProps): Promise<void>;
  /** Number of live device sessions. */
  sessionCount(): number;
  /** Whether the device has a live MQTT session. */
  isConnected(deviceId: string): boolean;
  /** The id of the device's live session, if any — messages from older sessions (late wills) are stale. */
  currentSession(deviceId: string): number | undefined;
  /** The retained Status payload the broker holds for a device (what a subscriber would receive), if any. */
  retainedStatus(deviceId: string): Promise<Uint8Array | undefined>;
  /**
   * Revokes a device at the broker: closes its live session at once, refuses anything it still sends (including
   * its last will) and clears its retained status.
   */
  revokeDevice(deviceId: string): Promise<void>;
  /**
   * External-broker mode only (the embedded broker checks the hub's own credential store): gives the broker a newly
   * enrolled device's credentials and ACL. Called at enrollment, the only moment the plain password exists. Never
   * rejects: a broker out of reach gets the device when the hub reconnects.
   */
  provisionDevice?(deviceId: string, password: string): Promise<void>;
  close(): Promise<void>;
}
