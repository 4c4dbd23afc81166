/** Helpers of the health tests: a hub on a manual clock, events emitted as the other capabilities emit them, alert queries. */
import { DeviceState } from '@fedfleet/proto';
import type { MqttClient } from 'mqtt';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import type { HubConfig } from '../../src/config.js';
import type { TelemetryJson } from '../../src/fleet/telemetry-json.js';
import type { AlertJson } from '../../src/health/schemas.js';
import { connectDevice, enrollDevice, publishStatus, waitFor } from '../helpers/devices.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';

export interface HealthHub extends TestHub {
  clock: ManualClock;
  /** Emits any hub event, including ones whose declaring capability (quality) may not be loaded. */
  emit(name: string, payload: object): void;
  alerts(query?: string): Promise<AlertJson[]>;
  /** Advances the manual clock by `seconds`, firing the timers that fall due. */
  advance(seconds: number): void;
}

export async function startHealthHub(options: { config?: Partial<HubConfig>; dataDir?: string; listen?: boolean; clock?: ManualClock } = {}): Promise<HealthHub> {
  const clock = options.clock ?? createManualClock();
  // Long heartbeats: the online devices of a test stay online while the manual clock jumps minutes ahead.
  const config = { heartbeatSec: 600, ...options.config };
  const testHub = await startTestHub({ clock, config, dataDir: options.dataDir, listen: options.listen });
  const events = testHub.hub.events as unknown as { emit(name: string, payload: object): void };
  return {
    ...testHub,
    clock,
    emit: (name, payload) => events.emit(name, { at: new Date(clock.now()).toISOString(), ...payload }),
    async alerts(query = '') {
      const response = await testHub.api<{ alerts: AlertJson[] }>('GET', `/v1/alerts${query}`);
      if (response.status !== 200) throw new Error(`GET /v1/alerts${query}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.alerts;
    },
    advance: (seconds) => clock.advance(seconds * 1000),
  };
}

/** Feeds the engine one Telemetry sample of `deviceId` as the fleet's telemetry handler announces it. */
export function sampleTelemetry(hub: HealthHub, deviceId: string, telemetry: Partial<TelemetryJson>): void {
  hub.emit('telemetry', { deviceId, telemetry: { charging: false, activeVersionId: '', ...telemetry } });
}

/** An enrolled device connected over MQTT (last will included) and online. */
export async function onlineDevice(hub: HealthHub, labels: Record<string, string> = {}): Promise<{ deviceId: string; client: MqttClient }> {
  const device = await enrollDevice(hub, { labels });
  const client = await connectDevice(hub, device);
  await goOnline(hub, device.deviceId, client);
  return { deviceId: device.deviceId, client };
}

/** The device says it goes offline (a Status OFFLINE, as an agent that shuts down sends). */
export async function goOffline(hub: HealthHub, deviceId: string, client: MqttClient): Promise<void> {
  await publishStatus(client, deviceId, { state: DeviceState.DEVICE_STATE_OFFLINE, reason: 'test' });
  await waitFor(() => !hub.hub.fleet.liveness.isOnline(deviceId), 5000, 'device offline');
}

export async function goOnline(hub: HealthHub, deviceId: string, client: MqttClient): Promise<void> {
  await publishStatus(client, deviceId);
  await waitFor(() => hub.hub.fleet.liveness.isOnline(deviceId), 5000, 'device online');
}
