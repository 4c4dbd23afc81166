/**
 * A CONNECT that is refused, or that goes before it authenticates, under another device's client id, probed over real
 * TCP. The device's session [MQTT-3.1.2-4] — its subscriptions, the QoS 1 messages queued for it, the QoS 2 messages
 * it sent that await PUBREL — belongs to whoever proves to be that device, so it must come through untouched: the
 * device logs back in and is owed exactly what it was owed.
 */
import type { Duplex } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { deviceTopic } from '@fedfleet/proto';
import type { Aedes } from 'aedes';
import type { AedesBroker } from '../src/broker/aedes-broker.js';
import { AUTH_FAILURES_PER_MIN } from '../src/broker/auth-attempt-limiter.js';
import { createManualClock, type ManualClock } from '../src/clock.js';
import type { EnrollResponse } from '../src/fleet/schemas.js';
import { connectError, enrollDevice, waitFor } from './helpers/devices.js';
import { connectPacket, openRaw, remainingLength, utf8, type RawConnection } from './helpers/raw-mqtt.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

const PACKET = { CONNACK: 2, PUBLISH: 3, PUBACK: 4, PUBREC: 5, PUBCOMP: 7, SUBACK: 9 } as const;
/** The QoS 2 message the device leaves half-acknowledged (PUBREC received, PUBREL not sent). */
const IN_FLIGHT_ID = 7;

interface Packet {
  type: number;
  flags: number;
  body: Buffer;
}

function messageId(id: number): Buffer {
  return Buffer.from([id >> 8, id & 0xff]);
}

function packet(typeByte: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([typeByte]), remainingLength(body.length), body]);
}

/** QoS 2 PUBLISH [MQTT-3.3.1]; `dup` marks the redelivery a client owes after reconnecting [MQTT-4.4.0-1]. */
function publishQos2(topic: string, payload: Buffer, dup: boolean): Buffer {
  return packet(0x34 | (dup ? 0x08 : 0), utf8(topic), messageId(IN_FLIGHT_ID), payload);
}

/** Reads the connection's packets one at a time, in order. */
function packetReader(connection: RawConnection): () => Promise<Packet> {
  let offset = 0;
  return async () => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const all = connection.received();
      if (all.length - offset >= 2) {
        let length = 0;
        let multiplier = 1;
        let at = offset + 1;
        while (at < all.length) {
          const byte = all[at++]!;
          length += (byte & 0x7f) * multiplier;
          multiplier *= 128;
          if ((byte & 0x80) === 0) break;
        }
        if (all.length >= at + length) {
          const read = { type: all[offset]! >> 4, flags: all[offset]! & 0x0f, body: all.subarray(at, at + length) };
          offset = at + length;
          return read;
        }
      }
      if (Date.now() > deadline || connection.isClosed()) throw new Error(`no complete packet after byte ${offset}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
}

/** Opens a raw session of the device (clean=0) and returns its CONNACK's session-present flag with a reader. */
async function deviceSession(testHub: TestHub, device: EnrollResponse) {
  const connection = await openRaw(Number(new URL(testHub.mqttUrl).port));
  const next = packetReader(connection);
  connection.socket.write(connectPacket({ clientId: device.clientId, username: device.username, password: device.password, clean: false }));
  const connack = await next();
  expect(connack.type).toBe(PACKET.CONNACK);
  expect(connack.body[1]).toBe(0); // accepted
  return { connection, next, sessionPresent: connack.body[0] === 1 };
}

/** Records the hub's side of every connection from now on; `allClosed` resolves once the hub closed each of them. */
function trackConnections(aedes: Aedes): { allClosed(): Promise<void> } {
  const streams: Duplex[] = [];
  const handle = aedes.handle.bind(aedes);
  vi.spyOn(aedes, 'handle').mockImplementation((stream) => (streams.push(stream as Duplex), handle(stream)));
  return {
    async allClosed() {
      await Promise.all(streams.map((stream) => (stream.destroyed ? undefined : new Promise((resolve) => stream.once('close', resolve)))));
      await new Promise((resolve) => setImmediate(resolve)); // aedes ends the session as it closes the connection
    },
  };
}

/** Whether aedes still holds the device's QoS 2 message awaiting PUBREL (aedes-persistence's incoming store). */
function holdsInFlight(aedes: Aedes, clientId: string): Promise<boolean> {
  const persistence = (aedes as unknown as { persistence: { incomingGetPacket(client: { id: string }, packet: { messageId: number }): Promise<unknown> } }).persistence;
  return persistence.incomingGetPacket({ id: clientId }, { messageId: IN_FLIGHT_ID }).then(() => true, () => false);
}

interface Scene {
  testHub: TestHub;
  clock: ManualClock;
  device: EnrollResponse;
  other: EnrollResponse;
  aedes: Aedes;
  connections: ReturnType<typeof trackConnections>;
}

/**
 * Leaves the device offline owing it state of every kind: its command subscription, a command queued while it was
 * away, and a QoS 2 message it sent whose PUBREL it has not sent yet.
 */
async function deviceWithSessionState(): Promise<Scene> {
  const clock = createManualClock();
  const testHub = await startTestHub({ clock });
  const device = await enrollDevice(testHub);
  const other = await enrollDevice(testHub);
  const aedes = (testHub.hub.broker as AedesBroker).aedes;

  const { connection, next, sessionPresent } = await deviceSession(testHub, device);
  expect(sessionPresent).toBe(false);
  connection.socket.write(packet(0x82, messageId(1), utf8(deviceTopic(device.deviceId, 'cmd')), Buffer.from([1])));
  expect(await next()).toMatchObject({ type: PACKET.SUBACK, body: Buffer.from([0, 1, 1]) });
  // The payload is not an envelope: the router drops it, but aedes keeps the QoS 2 state all the same.
  connection.socket.write(publishQos2(deviceTopic(device.deviceId, 'telemetry'), Buffer.from('x'), false));
  expect(await next()).toMatchObject({ type: PACKET.PUBREC, body: messageId(IN_FLIGHT_ID) });
  connection.socket.destroy();
  await waitFor(() => !testHub.hub.broker.isConnected(device.deviceId), 5000, 'device offline');
  await testHub.hub.broker.sendToDevice(device.deviceId, 'cmd', { command: { commandId: 'owed', config: { heartbeatSec: 5 } } });
  return { testHub, clock, device, other, aedes, connections: trackConnections(aedes) };
}

/** Opens a raw connection under `clientId` and ends it by `end` while its password check is held. */
async function goneDuringPasswordCheck(scene: Scene, clientId: string, end: (raw: RawConnection) => void): Promise<void> {
  const credentials = scene.testHub.hub.deviceCredentials;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const started = new Promise<void>((resolve) => {
    const verify = credentials.verify.bind(credentials);
    vi.spyOn(credentials, 'verify').mockImplementationOnce((deviceId, password) => (resolve(), held.then(() => verify(deviceId, password))));
  });
  const raw = await openRaw(Number(new URL(scene.testHub.mqttUrl).port));
  raw.socket.write(connectPacket({ clientId, username: clientId, password: 'guess' }));
  await started;
  end(raw);
  await scene.connections.allClosed();
  release();
}

const url = (scene: Scene) => scene.testHub.mqttUrl;

const refusals: Array<[string, (scene: Scene) => Promise<void>]> = [
  ['a wrong password with a clean session', async (scene) => {
    const { clientId, username } = scene.device;
    expect((await connectError(url(scene), { clientId, username, password: 'guess', clean: true }))?.code).toBe(4);
  }],
  ['a wrong password with a persistent session', async (scene) => {
    const { clientId, username } = scene.device;
    expect((await connectError(url(scene), { clientId, username, password: 'guess', clean: false }))?.code).toBe(4);
  }],
  ["another device's own credentials under this client id", async (scene) => {
    const { username, password } = scene.other;
    expect((await connectError(url(scene), { clientId: scene.device.clientId, username, password, clean: true }))?.code).toBe(2);
  }],
  ['no credentials', async (scene) => {
    expect((await connectError(url(scene), { clientId: scene.device.clientId, clean: true }))?.code).toBe(5);
  }],
  ['the login budget of the address being spent', async (scene) => {
    const { other, device, clock } = scene;
    for (let i = 0; i < AUTH_FAILURES_PER_MIN; i++) {
      expect((await connectError(url(scene), { clientId: other.clientId, username: other.username, password: 'guess', clean: true }))?.code).toBe(4);
    }
    expect((await connectError(url(scene), { clientId: device.clientId, username: device.username, password: 'guess', clean: true }))?.code).toBe(3);
    clock.advance(60_000); // the device logs in from the same address afterwards
  }],
  ['the client hanging up during its password check', (scene) => goneDuringPasswordCheck(scene, scene.device.clientId, (raw) => raw.socket.destroy())],
  ['the connection guard timing it out during its password check', (scene) =>
    goneDuringPasswordCheck(scene, scene.device.clientId, () => scene.clock.advance(scene.testHub.config.mqttConnectTimeoutSec * 1000))],
];

describe('a CONNECT under a device client id that does not authenticate', () => {
  it.each(refusals)('leaves the device session as it was: %s', async (_name, refuse) => {
    const scene = await deviceWithSessionState();
    const { testHub, device, aedes } = scene;
    let forwarded = 0;
    aedes.on('publish', (_packet, client) => void (client?.id === device.deviceId && forwarded++));

    await refuse(scene);
    await scene.connections.allClosed();

    expect(await holdsInFlight(aedes, device.clientId)).toBe(true); // [MQTT-3.1.2-4]: still part of the session
    const { connection, next, sessionPresent } = await deviceSession(testHub, device);
    expect(sessionPresent).toBe(true); // [MQTT-3.2.2-2]: the subscriptions are still there
    const command = await next(); // the command queued while the device was away
    expect(command.type).toBe(PACKET.PUBLISH);
    expect(command.body.subarray(2, 2 + command.body.readUInt16BE(0)).toString()).toBe(deviceTopic(device.deviceId, 'cmd'));
    connection.socket.write(packet(0x40, command.body.subarray(2 + command.body.readUInt16BE(0), 4 + command.body.readUInt16BE(0))));
    // The device did not see the PUBREC, so it sends the message again [MQTT-4.4.0-1]: acknowledged, not delivered twice.
    connection.socket.write(publishQos2(deviceTopic(device.deviceId, 'telemetry'), Buffer.from('x'), true));
    expect(await next()).toMatchObject({ type: PACKET.PUBREC, body: messageId(IN_FLIGHT_ID) });
    connection.socket.write(packet(0x62, messageId(IN_FLIGHT_ID)));
    expect(await next()).toMatchObject({ type: PACKET.PUBCOMP, body: messageId(IN_FLIGHT_ID) });
    expect(forwarded).toBe(0);
    // The command subscription is live, not just reported: a new command arrives.
    await testHub.hub.broker.sendToDevice(device.deviceId, 'cmd', { command: { commandId: 'after', config: { heartbeatSec: 5 } } });
    expect((await next()).type).toBe(PACKET.PUBLISH);
  });

  it('leaves a live device in the middle of a QoS 2 handshake to finish it', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const aedes = (testHub.hub.broker as AedesBroker).aedes;
    const { connection, next } = await deviceSession(testHub, device);
    connection.socket.write(publishQos2(deviceTopic(device.deviceId, 'telemetry'), Buffer.from('x'), false));
    expect(await next()).toMatchObject({ type: PACKET.PUBREC, body: messageId(IN_FLIGHT_ID) });
    const connections = trackConnections(aedes);

    const { clientId, username } = device;
    expect((await connectError(testHub.mqttUrl, { clientId, username, password: 'guess', clean: true }))?.code).toBe(4);
    await connections.allClosed();

    expect(await holdsInFlight(aedes, clientId)).toBe(true);
    connection.socket.write(packet(0x62, messageId(IN_FLIGHT_ID)));
    expect(await next()).toMatchObject({ type: PACKET.PUBCOMP, body: messageId(IN_FLIGHT_ID) });
    expect(await holdsInFlight(aedes, clientId)).toBe(false); // released by the device's PUBREL, not by the refused login
    expect(testHub.hub.broker.isConnected(device.deviceId)).toBe(true);
  });
});
