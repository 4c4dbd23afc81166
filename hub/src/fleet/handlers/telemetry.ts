/** `telemetry`: a device's periodic Telemetry, queued for batched storage and announced as a `telemetry` event. */
import type { MessageHandler } from '../../broker/router.js';
import type { HubEvents } from '../../events/hub-events.js';
import '../fleet-events.js';
import type { Liveness } from '../liveness.js';
import type { TelemetryIngest } from '../telemetry-ingest.js';
import { telemetryToJson } from '../telemetry-json.js';

export interface TelemetryHandlerOptions {
  ingest: Pick<TelemetryIngest, 'add'>;
  liveness: Pick<Liveness, 'noteHeartbeat'>;
  events: HubEvents;
}

export function createTelemetryHandler({ ingest, liveness, events }: TelemetryHandlerOptions): MessageHandler {
  return ({ deviceId, envelope, receivedAtMs }) => {
    const telemetry = telemetryToJson(envelope.telemetry!);
    if (telemetry.heartbeatSec) liveness.noteHeartbeat(deviceId, telemetry.heartbeatSec);
    ingest.add({ deviceId, atMs: receivedAtMs, telemetry });
    events.emit('telemetry', { deviceId, telemetry, at: new Date(receivedAtMs).toISOString() });
  };
}
