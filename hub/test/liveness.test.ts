import { describe, expect, it } from 'vitest';
import { DeviceState } from '@fedfleet/proto';
import { createManualClock } from '../src/clock.js';
import type { DeviceJson } from '../src/fleet/schemas.js';
import { connectDevice, enrollDevice, publishStatus, publishTelemetry, waitFor } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

async function deviceJson(testHub: TestHub, id: string): Promise<DeviceJson> {
  const response = await testHub.api<DeviceJson>('GET', `/v1/devices/${id}`);
  expect(response.status).toBe(200);
  return response.body;
}

async function waitForStatus(testHub: TestHub, id: string, status: 'online' | 'offline'): Promise<DeviceJson> {
  return waitFor(async () => {
    const device = await deviceJson(testHub, id);
    return device.status === status ? device : undefined;
  }, 5000, `${id} ${status}`);
}

/** A hub with one enrolled device, connected (with its last will) and seen online. */
async function onlineDevice() {
  const testHub = await startTestHub();
  const device = await enrollDevice(testHub);
  const client = await connectDevice(testHub, device);
  await publishStatus(client, device.deviceId);
  await waitForStatus(testHub, device.deviceId, 'online');
  return { testHub, device, client };
}

describe('liveness', () => {
  it('marks a device online on its retained Status and shows its telemetry', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub, { name: 'pi-1' });
    expect((await deviceJson(testHub, device.deviceId)).status).toBe('offline');
    const client = await connectDevice(testHub, device);
    const online = new Promise((resolve) => testHub.hub.events.once('device.online', resolve));
    await publishStatus(client, device.deviceId, { agentVersion: 'agent/0.1.0', activeVersionId: 'v1', heartbeatSec: 5 });
    expect(await online).toMatchObject({ deviceId: device.deviceId });
    await publishTelemetry(client, device.deviceId, { cpuPercent: 37.5, memTotalBytes: 4_000_000_000, temperatureC: 51.25, inferenceCount: 12 });
    const shown = await waitFor(async () => {
      const json = await deviceJson(testHub, device.deviceId);
      return json.telemetry ? json : undefined;
    });
    expect(shown).toMatchObject({
      id: device.deviceId,
      name: 'pi-1',
      status: 'online',
      agentVersion: 'agent/0.1.0',
      activeVersionId: 'v1',
      telemetry: { cpuPercent: 37.5, memTotalBytes: 4_000_000_000, temperatureC: 51.25, inferenceCount: 12 },
    });
    expect(shown.lastSeen).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(shown.telemetry).not.toHaveProperty('batteryPercent');
  });

  it('goes offline by last will when the connection drops, and online again on reconnect', async () => {
    const { testHub, device, client } = await onlineDevice();
    const offline = new Promise<{ reason: string }>((resolve) => testHub.hub.events.once('device.offline', resolve));
    client.stream.destroy(); // no DISCONNECT packet: the broker publishes the will
    expect((await offline).reason).toBe('will');
    await waitForStatus(testHub, device.deviceId, 'offline');

    const again = await connectDevice(testHub, device);
    await publishStatus(again, device.deviceId);
    await waitForStatus(testHub, device.deviceId, 'online');
  });

  it('goes offline on a clean disconnect', async () => {
    const { testHub, device, client } = await onlineDevice();
    const offline = new Promise<{ reason: string }>((resolve) => testHub.hub.events.once('device.offline', resolve));
    await client.endAsync();
    expect((await offline).reason).toBe('disconnected');
    await waitForStatus(testHub, device.deviceId, 'offline');
  });

  it('goes offline on a graceful Status OFFLINE', async () => {
    const { testHub, device, client } = await onlineDevice();
    await publishStatus(client, device.deviceId, { state: DeviceState.DEVICE_STATE_OFFLINE, reason: 'shutdown' });
    await waitForStatus(testHub, device.deviceId, 'offline');
  });

  it('goes offline after missedHeartbeats × heartbeatSec of silence, and back online on the next message', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock, config: { heartbeatSec: 10, missedHeartbeats: 3 } });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId, { heartbeatSec: 2 }); // the device's own period wins
    await waitForStatus(testHub, device.deviceId, 'online');
    const events: string[] = [];
    testHub.hub.events.on('device.offline', (event) => events.push(event.reason));

    clock.advance(5_000); // < 3 × 2 s
    expect((await deviceJson(testHub, device.deviceId)).status).toBe('online');
    clock.advance(2_000); // ≥ 6 s since the status (the sweep runs every second)
    expect(events).toEqual(['heartbeat-timeout']);
    expect((await deviceJson(testHub, device.deviceId)).status).toBe('offline');

    await publishTelemetry(client, device.deviceId, { cpuPercent: 1 });
    await waitForStatus(testHub, device.deviceId, 'online');
  });

  it('ignores a late will from a session that was replaced', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const first = await connectDevice(testHub, device);
    await publishStatus(first, device.deviceId);
    await waitForStatus(testHub, device.deviceId, 'online');
    // A second connection with the same client id takes over [MQTT-3.1.4-2]; the first session's will fires.
    const second = await connectDevice(testHub, device);
    await publishStatus(second, device.deviceId);
    await waitFor(() => testHub.hub.broker.isConnected(device.deviceId) && testHub.hub.fleet.liveness.isOnline(device.deviceId));
    await waitForStatus(testHub, device.deviceId, 'online');
    expect(first.connected).toBe(false);
  });
});
