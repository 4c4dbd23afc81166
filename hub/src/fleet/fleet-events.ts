/** Events of the fleet (enrollment, liveness, labels, telemetry), on `hub.events` and `GET /v1/events` (augments HubEventMap). */
import type { Labels } from './labels.js';
import type { TelemetryJson } from './telemetry-json.js';

/** Why a device went offline. */
export type OfflineReason = 'status' | 'will' | 'disconnected' | 'heartbeat-timeout' | 'revoked' | 'hub-shutdown';

declare module '../events/hub-events.js' {
  interface HubEventMap {
    'device.enrolled': { deviceId: string; name: string; labels: Labels; at: string };
    'device.online': { deviceId: string; at: string };
    'device.offline': { deviceId: string; reason: OfflineReason; detail?: string; at: string };
    'device.revoked': { deviceId: string; actor: string; at: string };
    'device.relabelled': { deviceId: string; labels: Labels; at: string };
    telemetry: { deviceId: string; telemetry: TelemetryJson; at: string };
  }
}
