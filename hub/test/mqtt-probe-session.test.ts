/**
 * Session takeover probed from outside over real TCP: a second connection of a device whose first session is live.
 * The hub must keep exactly one current session per device — the one aedes has registered [MQTT-3.1.4-2] — whatever
 * the second connection does.
 */
import type { Duplex } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { AedesBroker } from '../src/broker/aedes-broker.js';
import { connectDevice, enrollDevice, publishStatus, waitFor } from './helpers/devices.js';
import { connectPacket, openRaw } from './helpers/raw-mqtt.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

const mqttPort = (testHub: TestHub) => Number(new URL(testHub.mqttUrl).port);

async function deviceJson(testHub: TestHub, deviceId: string) {
  return (await testHub.api<{ status: string; agentVersion: string | null }>('GET', `/v1/devices/${deviceId}`)).body;
}

async function liveDevice() {
  const testHub = await startTestHub();
  const device = await enrollDevice(testHub);
  const live = await connectDevice(testHub, device);
  await publishStatus(live, device.deviceId, { agentVersion: 'first' });
  await waitFor(async () => (await deviceJson(testHub, device.deviceId)).agentVersion === 'first', 5000, 'device online');
  return { testHub, device, live, liveSession: testHub.hub.broker.currentSession(device.deviceId) };
}

describe('session takeover probed over TCP', () => {
  it('a second connection of a live device that vanishes during its password check leaves the live session current', async () => {
    const { testHub, device, live, liveSession } = await liveDevice();
    const aedes = (testHub.hub.broker as AedesBroker).aedes;
    const credentials = testHub.hub.deviceCredentials;

    // The hub's side of the next connection, to know when the hub has seen it close.
    const serverSide = new Promise<Duplex>((resolve) => {
      const handle = aedes.handle.bind(aedes);
      vi.spyOn(aedes, 'handle').mockImplementationOnce((stream) => (resolve(stream as Duplex), handle(stream)));
    });
    // Hold its password check (scrypt takes milliseconds on a cold cache) until the connection is gone.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let checked!: Promise<boolean>;
    const started = new Promise<void>((resolve) => {
      const verify = credentials.verify.bind(credentials);
      vi.spyOn(credentials, 'verify').mockImplementationOnce((deviceId, password) => {
        resolve();
        checked = held.then(() => verify(deviceId, password));
        return checked;
      });
    });

    const second = await openRaw(mqttPort(testHub));
    const stream = await serverSide;
    second.socket.write(connectPacket({ clientId: device.clientId, username: device.username, password: device.password }));
    await started;
    second.socket.destroy();
    if (!stream.destroyed) await new Promise((resolve) => stream.once('close', resolve));
    release();
    expect(await checked).toBe(true); // right credentials: only the connection is gone
    await new Promise((resolve) => setImmediate(resolve));

    // aedes never registered the second connection, so it took nothing over: the first is still the device.
    expect(live.connected).toBe(true);
    expect(testHub.hub.broker.isConnected(device.deviceId)).toBe(true);
    expect(testHub.hub.broker.currentSession(device.deviceId)).toBe(liveSession);
    expect(testHub.hub.broker.sessionCount()).toBe(1);
    // What the live session sends still counts (a replaced session's Status would be ignored).
    await publishStatus(live, device.deviceId, { agentVersion: 'second' });
    await waitFor(async () => (await deviceJson(testHub, device.deviceId)).agentVersion === 'second', 5000, 'status of the live session applied');

    const closed = new Promise<string>((resolve) => testHub.hub.broker.events.on('session.close', (e) => resolve(e.reason)));
    await live.endAsync();
    expect(await closed).toBe('disconnected');
  });
});
