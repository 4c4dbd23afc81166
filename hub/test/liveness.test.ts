import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceState, deviceTopic, encodeEnvelope, type EnvelopeProps } from '@fedfleet/proto';
import { createManualClock } from '../src/clock.js';
import { openDatabase } from '../src/store/database.js';
import { DATABASE_FILE } from '../src/store/store.js';
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

function storedStatus(dataDir: string, deviceId: string): string | undefined {
  const db = openDatabase(join(dataDir, DATABASE_FILE));
  try {
    return db.prepare<[string], { status: string }>('SELECT status FROM devices WHERE id = ?').get(deviceId)?.status;
  } finally {
    db.close();
  }
}

/** Records the reasons of every `device.offline` from now on. */
function recordOffline(testHub: TestHub): string[] {
  const reasons: string[] = [];
  testHub.hub.events.on('device.offline', (event) => reasons.push(event.reason));
  return reasons;
}

/** A second connection with the device's client id takes over [MQTT-3.1.4-2]; resolves once it is the current session. */
async function takeOver(testHub: TestHub, device: Awaited<ReturnType<typeof enrollDevice>>) {
  const firstSession = testHub.hub.broker.currentSession(device.deviceId)!;
  const second = await connectDevice(testHub, device);
  await waitFor(() => testHub.hub.broker.currentSession(device.deviceId) !== firstSession, 5000, 'the second session');
  return { firstSession, second };
}

async function expectStillOnline(testHub: TestHub, deviceId: string, offlineReasons: string[]): Promise<void> {
  expect(offlineReasons).toEqual([]);
  expect(testHub.hub.fleet.liveness.isOnline(deviceId)).toBe(true);
  expect((await deviceJson(testHub, deviceId)).status).toBe('online');
}

const offlineStatus = (reason: string) => ({ state: DeviceState.DEVICE_STATE_OFFLINE, reason });

/** Hands the router a message as the broker would for `sessionId`, and resolves to what became of it. */
async function dispatchFrom(testHub: TestHub, deviceId: string, sessionId: number, kind: 'status' | 'telemetry', body: Omit<EnvelopeProps, 'deviceId'>, viaWill = false): Promise<string> {
  const payload = encodeEnvelope({ deviceId, ...body });
  const result = await testHub.hub.broker.router.dispatch({ topic: deviceTopic(deviceId, kind), payload, sessionId, retained: kind === 'status', viaWill });
  return result.outcome;
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

  it('does not count a last will as a sign of life: lastSeen stays at the last real message', async () => {
    const clock = createManualClock();
    const testHub = await startTestHub({ clock });
    const device = await enrollDevice(testHub);
    const client = await connectDevice(testHub, device);
    await publishStatus(client, device.deviceId);
    await waitForStatus(testHub, device.deviceId, 'online');
    const seenAt = new Date(clock.now()).toISOString();
    clock.advance(3_000); // < missedHeartbeats × heartbeatSec: still online
    client.stream.destroy(); // the broker publishes the will now
    const offline = await waitForStatus(testHub, device.deviceId, 'offline');
    expect(offline.lastSeen).toBe(seenAt);
  });

  it('marks its online devices offline (hub-shutdown) when the hub closes', async () => {
    const { testHub, device } = await onlineDevice();
    const offline = recordOffline(testHub);
    await testHub.hub.close();
    expect(offline).toEqual(['hub-shutdown']);
    expect(storedStatus(testHub.dataDir, device.deviceId)).toBe('offline');
  });

  it('marks devices a previous run left online offline at start (no session survives the broker)', async () => {
    const { testHub, device } = await onlineDevice();
    await testHub.hub.close();
    // As a crash would leave the row: no shutdown ran.
    const db = openDatabase(join(testHub.dataDir, DATABASE_FILE));
    db.prepare(`UPDATE devices SET status = 'online' WHERE id = ?`).run(device.deviceId);
    db.close();
    const restarted = await startTestHub({ dataDir: testHub.dataDir, listen: false });
    expect((await deviceJson(restarted, device.deviceId)).status).toBe('offline');
  });

  it('ignores a late will from a session that was replaced', async () => {
    const { testHub, device } = await onlineDevice();
    const { firstSession, second } = await takeOver(testHub, device);
    await publishStatus(second, device.deviceId);
    await waitForStatus(testHub, device.deviceId, 'online');
    const offline = recordOffline(testHub);

    // The first session's will, arriving now: deterministic, unlike the race of a real takeover.
    expect(await dispatchFrom(testHub, device.deviceId, firstSession, 'status', { status: offlineStatus('will') }, true)).toBe('accepted');
    await expectStillOnline(testHub, device.deviceId, offline);
  });

  it('keeps the device online when a replaced session reports its close late', async () => {
    const { testHub, device } = await onlineDevice();
    const { firstSession, second } = await takeOver(testHub, device);
    await publishStatus(second, device.deviceId);
    await waitForStatus(testHub, device.deviceId, 'online');
    const offline = recordOffline(testHub);

    // As the broker reports a session it has closed; the device's newer session is what counts.
    testHub.hub.broker.events.emit('session.close', { deviceId: device.deviceId, sessionId: firstSession, reason: 'keepalive-timeout' });
    await expectStillOnline(testHub, device.deviceId, offline);
  });

  it('stays online through a real takeover: the replaced session\'s will and close never mark it offline', async () => {
    const { testHub, device } = await onlineDevice();
    const offline = recordOffline(testHub);
    // aedes publishes the first session's will and closes it while the second is being registered.
    const { second } = await takeOver(testHub, device);
    await publishStatus(second, device.deviceId);
    await waitForStatus(testHub, device.deviceId, 'online');
    await expectStillOnline(testHub, device.deviceId, offline);
  });

  it('ignores a late message from a replaced session once the device has gone offline', async () => {
    const { testHub, device } = await onlineDevice();
    const { firstSession, second } = await takeOver(testHub, device);
    await publishStatus(second, device.deviceId, offlineStatus('shutdown'));
    await waitForStatus(testHub, device.deviceId, 'offline');

    // Telemetry still in flight from the first session proves nothing about the device now.
    expect(await dispatchFrom(testHub, device.deviceId, firstSession, 'telemetry', { telemetry: { cpuPercent: 5 } })).toBe('accepted');
    expect(testHub.hub.fleet.liveness.isOnline(device.deviceId)).toBe(false);
    expect((await deviceJson(testHub, device.deviceId)).status).toBe('offline');
  });
});
