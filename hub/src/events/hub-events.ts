/**
 * The hub's typed events, decorated on the hub as `hub.events` and streamed at `GET /v1/events`. Later plugins add
 * their own events by augmenting {@link HubEventMap}:
 *
 * ```ts
 * declare module '../events/hub-events.js' {
 *   interface HubEventMap { 'round.committed': { roundId: string; at: string } }
 * }
 * ```
 */
import type { Labels } from '../fleet/labels.js';
import type { TelemetryJson } from '../fleet/telemetry-json.js';
import { TypedEmitter } from './typed-emitter.js';

/** Why a device went offline. */
export type OfflineReason = 'status' | 'will' | 'disconnected' | 'heartbeat-timeout' | 'revoked' | 'hub-shutdown';

export interface HubEventMap {
  'device.enrolled': { deviceId: string; name: string; labels: Labels; at: string };
  'device.online': { deviceId: string; at: string };
  'device.offline': { deviceId: string; reason: OfflineReason; detail?: string; at: string };
  'device.revoked': { deviceId: string; actor: string; at: string };
  'device.relabelled': { deviceId: string; labels: Labels; at: string };
  telemetry: { deviceId: string; telemetry: TelemetryJson; at: string };
}

export type HubEventName = keyof HubEventMap & string;

export class HubEvents extends TypedEmitter<HubEventMap> {}
